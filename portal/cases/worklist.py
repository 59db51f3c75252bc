"""The caseload as a work queue: who needs the therapist today, in what order, and why.

Everything is read in a fixed number of grouped queries for the whole caseload and then sorted,
filtered and searched in Python, so 40 or 400 cases cost the same number of queries.
Urgency, most urgent first (issue 14): a rupture or low rating; a consent withdrawn (the case is
paused or changed, until the therapist has read the notice or the consent is given again); a reply
overdue; a plan waiting for the therapist's sign-off; a family request; an open "How is it going?"
note (a request the family made without being asked); a review overdue; no practice for 7 days;
then any other open alert.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from portal import db
from portal.feedback.alerts import AlertGroup, group_by_cause
from portal.models import Case, CaseStatus, GuardianLink, User
from portal.models.feedback import AlertKind, CareAlert, SessionStatus, TherapySession

NO_PRACTICE_DAYS = 7
REVIEW_SOON_DAYS = 14


class Urgency(enum.IntEnum):
    RUPTURE = 1
    CONSENT_WITHDRAWN = 2
    REPLY_OVERDUE = 3
    PLAN_SIGN_OFF = 4
    FAMILY_REQUEST = 5
    FAMILY_NOTE = 6
    REVIEW_OVERDUE = 7
    NO_PRACTICE = 8
    OTHER_ALERT = 9

    @property
    def label(self) -> str:
        return str(
            {
                1: _("Rupture or low rating"),
                2: _("Consent withdrawn"),
                3: _("Reply overdue"),
                4: _("Plan waiting for your sign-off"),
                5: _("Family request"),
                6: _("Family note"),
                7: _("Review overdue"),
                8: _("No practice for 7 days"),
                9: _("Alert"),
            }[self.value]
        )


FILTERS: dict[str, Any] = {
    "all": _l("All"),
    "attention": _l("Needs attention"),
    "mine": _l("My primary cases"),
    "reply": _l("Reply overdue"),
    "plan": _l("Plan waiting"),
    "review": _l("Review due"),
    "paused": _l("Paused"),
}
SORTS: dict[str, Any] = {
    "urgency": _l("Most urgent first"),
    "name": _l("Name"),
    "practice": _l("Last practice (longest ago first)"),
    "next": _l("Next session (soonest first)"),
    "contact": _l("Last contact (longest ago first)"),
}


@dataclass
class QueueRow:
    case: Case
    is_primary: bool
    urgencies: list[Urgency]
    reason: str
    alert_groups: list[AlertGroup]
    flags: dict[str, Any]
    last_practice: datetime | None
    practice_week: int
    next_session: datetime | None
    last_contact: datetime | None
    guardian_links: list[GuardianLink] = field(default_factory=list)

    @property
    def guardians(self) -> list[str]:
        return [link.guardian.display_name for link in self.guardian_links]

    @property
    def needs_attention(self) -> bool:
        return bool(self.urgencies)

    @property
    def top(self) -> Urgency | None:
        return self.urgencies[0] if self.urgencies else None


@dataclass
class QueueState:
    filter: str = "all"
    sort: str = "urgency"
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> QueueState:
        """Unknown values fall back to the defaults: a mistyped link still shows the caseload."""
        chosen = args.get("filter", "all")
        order = args.get("sort", "urgency")
        return cls(
            filter=chosen if chosen in FILTERS else "all",
            sort=order if order in SORTS else "urgency",
            q=(args.get("q") or "").strip()[:100],
        )

    def as_args(self) -> dict[str, str]:
        args = {}
        if self.filter != "all":
            args["filter"] = self.filter
        if self.sort != "urgency":
            args["sort"] = self.sort
        if self.q:
            args["q"] = self.q
        return args


def _open_alert_groups(case_ids: list[int]) -> dict[int, list[AlertGroup]]:
    if not case_ids:
        return {}
    found: dict[int, list[CareAlert]] = {cid: [] for cid in case_ids}
    for alert in db.session.scalars(
        select(CareAlert).where(CareAlert.case_id.in_(case_ids), CareAlert.resolved_at.is_(None))
    ):
        found[alert.case_id].append(alert)
    return {cid: group_by_cause(alerts) for cid, alerts in found.items()}


def _next_sessions(case_ids: list[int], now: datetime) -> dict[int, datetime]:
    if not case_ids:
        return {}
    rows = db.session.execute(
        select(TherapySession.case_id, func.min(TherapySession.starts_at))
        .where(
            TherapySession.case_id.in_(case_ids),
            TherapySession.status == SessionStatus.SCHEDULED,
            TherapySession.starts_at > now,
        )
        .group_by(TherapySession.case_id)
    )
    return {case_id: when for case_id, when in rows}


def _urgencies(
    case: Case,
    flags: dict[str, Any],
    groups: list[AlertGroup],
    last_practice: datetime | None,
    now: datetime,
    today: date,
) -> list[Urgency]:
    found = set()
    for group in groups:
        if group.is_rupture:
            found.add(Urgency.RUPTURE)
        elif AlertKind.NO_PRACTICE in group.kinds:
            found.add(Urgency.NO_PRACTICE)
        else:
            found.add(Urgency.OTHER_ALERT)
    if flags["consent"]:
        found.add(Urgency.CONSENT_WITHDRAWN)
    if flags["notes"]:
        found.add(Urgency.FAMILY_NOTE)
    if flags["reply_overdue"]:
        found.add(Urgency.REPLY_OVERDUE)
    if flags["sign_off"]:
        found.add(Urgency.PLAN_SIGN_OFF)
    if flags["tasks"]:
        found.add(Urgency.FAMILY_REQUEST)
    if flags["review_due"] is not None and flags["review_due"] < today:
        found.add(Urgency.REVIEW_OVERDUE)
    if (
        case.status is CaseStatus.ACTIVE
        and last_practice is not None
        and now - last_practice >= timedelta(days=NO_PRACTICE_DAYS)
    ):
        found.add(Urgency.NO_PRACTICE)
    return sorted(found)


def _reason(
    case: Case,
    top: Urgency | None,
    flags: dict[str, Any],
    groups: list[AlertGroup],
    last_practice: datetime | None,
) -> str:
    """One line saying why this family is where it is in the queue."""
    from portal.i18n import local_date, local_datetime

    if top is None:
        return ""
    if top is Urgency.RUPTURE:
        rupture = next(g for g in groups if g.is_rupture)
        return "; ".join(alert.summary_text for alert in rupture.alerts)
    if top is Urgency.CONSENT_WITHDRAWN:
        if case.status is CaseStatus.PAUSED:
            return str(_("Treatment consent was withdrawn: the case is paused."))
        return str(_("A guardian withdrew a consent: read what it changes."))
    if top is Urgency.FAMILY_NOTE:
        return str(
            ngettext(
                "%(num)d “How is it going?” note waits for your answer.",
                "%(num)d “How is it going?” notes wait for your answer.",
                flags["notes"],
            )
        )
    if top is Urgency.REPLY_OVERDUE:
        return str(
            ngettext(
                "A family message is past its reply time.",
                "%(num)d family messages are past their reply time.",
                flags["reply_overdue"],
            )
        )
    if top is Urgency.PLAN_SIGN_OFF:
        return str(_("A proposed plan version waits for your sign-off."))
    if top is Urgency.FAMILY_REQUEST:
        return str(
            ngettext(
                "%(num)d family request waits for your answer.",
                "%(num)d family requests wait for your answer.",
                flags["tasks"],
            )
        )
    if top is Urgency.REVIEW_OVERDUE:
        return str(
            _(
                "The plan review was due on %(day)s.",
                day=local_date(flags["review_due"], "day"),
            )
        )
    if top is Urgency.NO_PRACTICE:
        if last_practice is None:
            return str(_("No practice logged for 7 days."))
        return str(_("No practice since %(day)s.", day=local_datetime(last_practice, "day")))
    return groups[0].alerts[0].summary_text if groups else ""


def build_queue(user: User, cases: list[Case], *, now: datetime, today: date) -> list[QueueRow]:
    from portal.cases.queries import caseload_flags
    from portal.ladders.queries import practice_summary

    case_ids = [case.id for case in cases]
    flags = caseload_flags(case_ids)
    groups = _open_alert_groups(case_ids)
    practice = practice_summary(case_ids)
    upcoming = _next_sessions(case_ids, now)
    rows = []
    for case in cases:
        last = practice[case.id]["last"]
        assert last is None or isinstance(last, datetime)
        case_groups = groups.get(case.id, [])
        urgencies = _urgencies(case, flags[case.id], case_groups, last, now, today)
        rows.append(
            QueueRow(
                case=case,
                is_primary=any(
                    link.therapist_id == user.id and link.is_primary and link.is_current
                    for link in case.therapist_links
                ),
                urgencies=urgencies,
                reason=_reason(
                    case, urgencies[0] if urgencies else None, flags[case.id], case_groups, last
                ),
                alert_groups=case_groups,
                flags=flags[case.id],
                last_practice=last,
                practice_week=int(practice[case.id]["week"] or 0),  # type: ignore[call-overload]
                next_session=upcoming.get(case.id),
                last_contact=flags[case.id]["last_contact"],
                guardian_links=[link for link in case.guardian_links if link.is_current(now)],
            )
        )
    return rows


def _matches(row: QueueRow, chosen: str, today: date) -> bool:
    if chosen == "attention":
        return row.needs_attention
    if chosen == "mine":
        return row.is_primary
    if chosen == "reply":
        return Urgency.REPLY_OVERDUE in row.urgencies
    if chosen == "plan":
        return Urgency.PLAN_SIGN_OFF in row.urgencies
    if chosen == "review":
        due = row.flags["review_due"]
        return due is not None and due <= today + timedelta(days=REVIEW_SOON_DAYS)
    if chosen == "paused":
        return row.case.status is CaseStatus.PAUSED
    return True


def _searched(row: QueueRow, words: str) -> bool:
    needle = words.casefold()
    names = [row.case.child.full_name, *row.guardians]
    return any(needle in name.casefold() for name in names)


FAR_FUTURE = datetime.max.replace(tzinfo=None)


def _sort_key(sort: str) -> Any:
    def naive(value: datetime | None, missing: datetime) -> datetime:
        return (value or missing).replace(tzinfo=None)

    if sort == "name":
        return lambda r: (r.case.child.last_name.casefold(), r.case.child.first_name.casefold())
    if sort == "practice":
        return lambda r: naive(r.last_practice, datetime.min)
    if sort == "next":
        return lambda r: naive(r.next_session, FAR_FUTURE)
    if sort == "contact":
        return lambda r: naive(r.last_contact, datetime.min)
    return lambda r: (
        r.top or 99,
        # Within one kind, the longest waiting first.
        naive(_waiting_since(r), FAR_FUTURE),
        r.case.child.last_name.casefold(),
    )


# The kinds that wait on one row of the flags: since when the oldest of them has waited.
_SINCE = {
    Urgency.CONSENT_WITHDRAWN: "since_consent",
    Urgency.FAMILY_REQUEST: "since_tasks",
    Urgency.FAMILY_NOTE: "since_notes",
}


def _waiting_since(row: QueueRow) -> datetime | None:
    if row.top in _SINCE:
        since: datetime | None = row.flags[_SINCE[row.top]]
        return since
    return row.alert_groups[0].alerts[0].created_at if row.alert_groups else None


def view_of(rows: list[QueueRow], state: QueueState, today: date) -> list[QueueRow]:
    shown = [row for row in rows if _matches(row, state.filter, today)]
    if state.q:
        shown = [row for row in shown if _searched(row, state.q)]
    return sorted(shown, key=_sort_key(state.sort))


def filter_counts(rows: list[QueueRow], today: date) -> dict[str, int]:
    return {name: sum(1 for row in rows if _matches(row, name, today)) for name in FILTERS}
