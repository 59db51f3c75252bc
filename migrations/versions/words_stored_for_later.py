"""Words stored for later: alerts' and tasks' sentences as a msgid and parameters, said in the
reader's language (portal/stored_words.py); a deleted child's placeholder name said the same way

Revision ID: 5d0e7a1b9c42
Revises: c1a5e0a77e4d
Create Date: 2026-12-04 23:20:00

Adds care_alerts.summary_words, case_tasks.summary_words and case_tasks.detail_words (JSON:
{"msgid": ..., "params": {...}}) and children.name_removed_at. The data step recovers the words of
existing rows from the sentence shapes the code wrote until now (English, and the Spanish of the
consent-withdrawn and "not yet" tasks, which were written in the guardian's language). A row of
another shape keeps its words NULL and is shown as stored (`summary`), as before. `summary` and
`detail` stay: new rows keep the English wording of the time there. It also marks children whose
deletion was completed (first name "Child", last name "#<id>"), names their closed accounts by the
record number instead of "Closed account", and turns Spanish lines of data_requests.retained back
into msgids. Downgrade drops the new columns; the English kept in `summary` reads as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "5d0e7a1b9c42"
down_revision = "c1a5e0a77e4d"
branch_labels = None
depends_on = None

Params = dict[str, Any]
Shape = tuple[re.Pattern[str], str, Callable[[re.Match[str], datetime], Params]]

# --- what the code wrote until this revision (as frozen here: the code may change later) -------

ITEMS = ("feeling heard", "working on what matters", "the approach", "overall")
WHO_WORDS = ("The child", "A guardian")
RETAINED = (
    "Treatment plan versions, goals, problems and progress ratings (clinical record)",
    "Session dates and attendance (clinical record)",
    "Consent records (proof of consent, COPPA 312.5)",
    "Messages with the care team (clinical correspondence)",
    "Practice ratings and token ledger, without the child's own words (clinical record)",
)


def _who(stored: str) -> Any:
    return {"word": stored} if stored in WHO_WORDS else stored


def _item(stored: str) -> Any:
    return stored  # a msgid of ITEMS, checked by the pattern


def _day(stored: str, written: datetime) -> Params:
    """ "Nov 30" as stored (English month), in the year the row was written (or the one before,
    for a December day written in January)."""
    parsed = datetime.strptime(f"{stored} {written.year}", "%b %d %Y").date()
    if parsed > written.date():
        parsed = date(parsed.year - 1, parsed.month, parsed.day)
    return {"date": parsed.isoformat(), "shape": "day"}


_ITEM = "|".join(re.escape(item) for item in ITEMS)
ALERT_SHAPES: list[Shape] = [
    (
        re.compile(rf"^(?P<who>.+) rated low: (?P<items>(?:{_ITEM})(?:, (?:{_ITEM}))*)$"),
        "%(who)s rated low: %(items)s",
        lambda m, _w: {"who": _who(m["who"]), "items": {"words": m["items"].split(", ")}},
    ),
    (
        re.compile(
            rf"^(?P<who>.+)'s rating of (?P<item>{_ITEM}) dropped (?P<points>\d+) points since "
            r"last time$"
        ),
        "%(who)s's rating of %(item)s dropped %(points)s points since last time",
        lambda m, _w: {
            "who": _who(m["who"]),
            "item": {"word": m["item"]},
            "points": int(m["points"]),
        },
    ),
    (
        re.compile(
            r"^Goal progress from the (?P<rater>child|guardian|therapist) has been flat at about "
            r"(?P<value>\d+)/10 for three ratings$"
        ),
        "Goal progress from the %(rater)s has been flat at about %(value)s/10 for three ratings",
        lambda m, _w: {"rater": {"word": m["rater"]}, "value": int(m["value"])},
    ),
    (
        re.compile(r"^No practice logged since (?P<day>[A-Z][a-z]{2} \d{1,2})$"),
        "No practice logged since %(day)s",
        lambda m, w: {"day": _day(m["day"], w)},
    ),
    (
        re.compile(
            r"^(?P<who>.+)'s check-in for the week of (?P<day>[A-Z][a-z]{2} \d{1,2}) has not "
            r"come in$"
        ),
        "%(who)s's check-in for the week of %(day)s has not come in",
        lambda m, w: {"who": m["who"], "day": _day(m["day"], w)},
    ),
]

_NAME = lambda m, _w: {"name": m["name"]}  # noqa: E731
_NAME_NUMBER = lambda m, _w: {"name": m["name"], "number": int(m["number"])}  # noqa: E731
TASK_SHAPES: list[Shape] = [
    (
        re.compile(r"^(?P<name>.+) suggests a different order of priorities$"),
        "%(name)s suggests a different order of priorities",
        _NAME,
    ),
    (
        re.compile(r"^(?P<name>.+) asks for a plan review$"),
        "%(name)s asks for a plan review",
        _NAME,
    ),
    (
        re.compile(r"^(?P<name>.+) asks for changes to plan v(?P<number>\d+)$"),
        "%(name)s asks for changes to plan v%(number)s",
        _NAME_NUMBER,
    ),
    (
        re.compile(r"^(?P<name>.+) accepted plan v(?P<number>\d+) with a comment$"),
        "%(name)s accepted plan v%(number)s with a comment",
        _NAME_NUMBER,
    ),
    (
        re.compile(r"^(?P<name>.+) is not ready for plan v(?P<number>\d+) yet$"),
        "%(name)s is not ready for plan v%(number)s yet",
        _NAME_NUMBER,
    ),
    # Written in the guardian's language: English or Spanish.
    (
        re.compile(r"^(?P<name>.+) (?:said “not yet” to starting|dijo «todavía no» a empezar)$"),
        "%(name)s said “not yet” to starting",
        _NAME,
    ),
]
WITHDREW = re.compile(r"^(?P<name>.+) (?:withdrew|retiró): (?P<document>.+)$")


def _catalogue_words(msgids: list[str]) -> dict[str, str]:
    """Each msgid, and its Spanish wording in the catalogue, mapped to the msgid."""
    known = {msgid: msgid for msgid in msgids}
    try:
        from babel.support import Translations

        folder = Path(__file__).resolve().parents[2] / "portal" / "translations"
        spanish = Translations.load(str(folder), ["es"])
        for msgid in msgids:
            known.setdefault(spanish.ugettext(msgid), msgid)
    except Exception:  # noqa: S110  # nosec B110: best effort, English still maps
        pass
    return known


def _consent_words() -> tuple[dict[str, str], dict[str, str]]:
    """The consent titles and withdrawal consequences the consent-withdrawn tasks quoted."""
    try:
        from portal.cases.services import WITHDRAWAL_CONSEQUENCES
        from portal.consent_documents import CONSENT_DOCUMENTS
        from portal.stored_words import msgid_of

        titles = [msgid_of(doc.title) for doc in CONSENT_DOCUMENTS.values()]
        consequences = [msgid_of(text) for text in WITHDRAWAL_CONSEQUENCES.values()]
    except Exception:  # the code moved on: leave those rows as written
        return {}, {}
    return _catalogue_words(titles), _catalogue_words(consequences)


def _words_of(text: str, written: datetime, shapes: list[Shape]) -> Params | None:
    for pattern, msgid, params in shapes:
        if found := pattern.match(text):
            try:
                return {"msgid": msgid, "params": params(found, written)}
            except ValueError:  # a day that does not parse: keep the row as written
                return None
    return None


def _written(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


JSON = sa.JSON(none_as_null=True)


def upgrade() -> None:
    with op.batch_alter_table("care_alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary_words", JSON, nullable=True))
    with op.batch_alter_table("case_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary_words", JSON, nullable=True))
        batch_op.add_column(sa.Column("detail_words", JSON, nullable=True))
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name_removed_at", portal.db.UTCDateTime(timezone=True), nullable=True)
        )
    _recover_words()


def _recover_words() -> None:
    bind = op.get_bind()
    alerts = sa.table(
        "care_alerts",
        sa.column("id", sa.Integer),
        sa.column("summary", sa.String),
        sa.column("created_at", sa.String),
        sa.column("summary_words", JSON),
    )
    for row in bind.execute(sa.select(alerts.c.id, alerts.c.summary, alerts.c.created_at)):
        words = _words_of(row.summary, _written(row.created_at), ALERT_SHAPES)
        if words is not None:
            bind.execute(alerts.update().where(alerts.c.id == row.id).values(summary_words=words))

    tasks = sa.table(
        "case_tasks",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("summary", sa.String),
        sa.column("detail", sa.Text),
        sa.column("created_at", sa.String),
        sa.column("summary_words", JSON),
        sa.column("detail_words", JSON),
    )
    titles, consequences = _consent_words()
    rows = bind.execute(
        sa.select(tasks.c.id, tasks.c.kind, tasks.c.summary, tasks.c.detail, tasks.c.created_at)
    )
    for row in rows:
        values: Params = {}
        if row.kind == "consent_withdrawn":
            found = WITHDREW.match(row.summary)
            if found and found["document"] in titles:
                values["summary_words"] = {
                    "msgid": "%(name)s withdrew: %(document)s",
                    "params": {
                        "name": found["name"],
                        "document": {"word": titles[found["document"]]},
                    },
                }
            if row.detail in consequences:
                values["detail_words"] = {"msgid": consequences[row.detail], "params": {}}
        else:
            words = _words_of(row.summary, _written(row.created_at), TASK_SHAPES)
            if words is not None:
                values["summary_words"] = words
        if values:
            bind.execute(tasks.update().where(tasks.c.id == row.id).values(**values))

    children = sa.table(
        "children",
        sa.column("id", sa.Integer),
        sa.column("first_name", sa.String),
        sa.column("last_name", sa.String),
        sa.column("user_id", sa.Integer),
        sa.column("name_removed_at", portal.db.UTCDateTime(timezone=True)),
    )
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("display_name", sa.String))
    now = datetime.now(UTC)
    for row in bind.execute(
        sa.select(children.c.id, children.c.last_name, children.c.user_id).where(
            children.c.first_name == "Child"
        )
    ):
        if row.last_name != f"#{row.id}":
            continue  # a child called Child
        bind.execute(children.update().where(children.c.id == row.id).values(name_removed_at=now))
        if row.user_id is not None:
            bind.execute(
                users.update()
                .where(users.c.id == row.user_id, users.c.display_name == "Closed account")
                .values(display_name=f"#{row.id}")
            )

    requests = sa.table(
        "data_requests", sa.column("id", sa.Integer), sa.column("retained", sa.Text)
    )
    lines = _catalogue_words(list(RETAINED))
    for row in bind.execute(sa.select(requests.c.id, requests.c.retained)):
        kept = [lines.get(line, line) for line in (row.retained or "").splitlines()]
        if "\n".join(kept) != (row.retained or ""):
            bind.execute(
                requests.update().where(requests.c.id == row.id).values(retained="\n".join(kept))
            )


def downgrade() -> None:
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.drop_column("name_removed_at")
    with op.batch_alter_table("case_tasks", schema=None) as batch_op:
        batch_op.drop_column("detail_words")
        batch_op.drop_column("summary_words")
    with op.batch_alter_table("care_alerts", schema=None) as batch_op:
        batch_op.drop_column("summary_words")
