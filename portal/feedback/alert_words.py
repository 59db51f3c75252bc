"""An alert's summary in the reader's language.

Alerts are stored once, in English (`CareAlert.summary`, written by portal/feedback/services.py),
and read by therapists who may read Rapport in another language. Each rule writes one fixed
sentence shape; this module knows those shapes and says them again through the catalogue, with
the people's names, numbers and dates carried over. A summary of an unknown shape is shown as
stored. tests/feedback/test_alert_words.py raises every kind and checks the round trip.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from portal.db import utcnow
from portal.i18n import gettext as _
from portal.i18n import local_date
from portal.models.feedback import CareAlert

# The English words services.ITEM_WORDS stores for each question.
ITEM_WORDS: dict[str, LazyString] = {
    "feeling heard": _l("feeling heard"),
    "working on what matters": _l("working on what matters"),
    "the approach": _l("the approach"),
    "overall": _l("overall"),
}
RATER_WORDS: dict[str, LazyString] = {
    "child": _l("child"),
    "guardian": _l("guardian"),
    "therapist": _l("therapist"),
}
FALLBACK_WHO = {"The child": _l("The child"), "A guardian": _l("A guardian")}


def _who(stored: str) -> str:
    words = FALLBACK_WHO.get(stored)
    return str(words) if words is not None else stored


def _item(stored: str) -> str:
    words = ITEM_WORDS.get(stored)
    return str(words) if words is not None else stored


def _day(stored: str, year: int) -> str:
    """ "Nov 30" (as stored, English month) in the reader's language; the year is the alert's."""
    try:
        parsed = datetime.strptime(f"{stored} {year}", "%b %d %Y").date()
    except ValueError:
        return stored
    return local_date(date(parsed.year, parsed.month, parsed.day), "day")


def _low(found: re.Match[str], _year: int) -> str:
    items = ", ".join(_item(word) for word in found["items"].split(", "))
    return _("%(who)s rated low: %(items)s", who=_who(found["who"]), items=items)


def _drop(found: re.Match[str], _year: int) -> str:
    return _(
        "%(who)s's rating of %(item)s dropped %(points)s points since last time",
        who=_who(found["who"]),
        item=_item(found["item"]),
        points=found["points"],
    )


def _flat(found: re.Match[str], _year: int) -> str:
    rater = RATER_WORDS.get(found["rater"])
    return _(
        "Goal progress from the %(rater)s has been flat at about %(value)s/10 for three ratings",
        rater=str(rater) if rater is not None else found["rater"],
        value=found["value"],
    )


def _no_practice(found: re.Match[str], year: int) -> str:
    return _("No practice logged since %(day)s", day=_day(found["day"], year))


def _overdue(found: re.Match[str], year: int) -> str:
    return _(
        "%(who)s's check-in for the week of %(day)s has not come in",
        who=found["who"],
        day=_day(found["day"], year),
    )


SHAPES: list[tuple[re.Pattern[str], Callable[[re.Match[str], int], str]]] = [
    (re.compile(r"^(?P<who>.+) rated low: (?P<items>.+)$"), _low),
    (
        re.compile(
            r"^(?P<who>.+)'s rating of (?P<item>.+) dropped (?P<points>\d+) points since last time$"
        ),
        _drop,
    ),
    (
        re.compile(
            r"^Goal progress from the (?P<rater>\w+) has been flat at about (?P<value>\d+)/10 "
            r"for three ratings$"
        ),
        _flat,
    ),
    (re.compile(r"^No practice logged since (?P<day>\w{3} \d{1,2})$"), _no_practice),
    (
        re.compile(
            r"^(?P<who>.+)'s check-in for the week of (?P<day>\w{3} \d{1,2}) has not come in$"
        ),
        _overdue,
    ),
]


def alert_summary(alert: CareAlert) -> str:
    year = (alert.created_at or utcnow()).year
    for shape, say in SHAPES:
        if found := shape.match(alert.summary):
            return say(found, year)
    return alert.summary
