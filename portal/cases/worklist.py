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
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from flask import url_for
from markupsafe import Markup, escape
from sqlalchemy import BindParameter, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import aliased

from portal import db
from portal.cases import queries
from portal.feedback.alerts import AlertGroup, AlertRow, group_by_cause
from portal.i18n import (
    gettext,
    local_date,
    moments,
    translations,
)
from portal.labels import kin, label
from portal.models import Case, CaseStatus, CaseTherapist, Child, GuardianLink, Role, User
from portal.models.cases import age_on, shown_first_name
from portal.models.feedback import AlertKind, CareAlert, SessionStatus, TherapySession
from portal.models.ladders import PracticeAttempt
from portal.stored_words import N_

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
        """Only this kind's words, through the request's catalogue (issue 17: all nine were
        translated on every access, ~540 lookups a caseload)."""
        return str(translations().ugettext(_URGENCY_WORDS[self.value]))


_URGENCY_WORDS = {
    1: N_("Rupture or low rating"),
    2: N_("Consent withdrawn"),
    3: N_("Reply overdue"),
    4: N_("Plan waiting for your sign-off"),
    5: N_("Family request"),
    6: N_("Family note"),
    7: N_("Review overdue"),
    8: N_("No practice for 7 days"),
    9: N_("Alert"),
}


def _(msgid: str, **variables: Any) -> str:
    """flask_babel.gettext, through the request's bound catalogue (portal.i18n.translations)."""
    text = str(translations().ugettext(msgid))
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int) -> str:
    """flask_babel.ngettext, through the request's bound catalogue."""
    return str(translations().ungettext(singular, plural, num)) % {"num": num}


# The choices' msgids; `translated` says them in the reader's language.
FILTERS: dict[str, str] = {
    "all": N_("All"),
    "attention": N_("Needs attention"),
    "mine": N_("My primary cases"),
    "reply": N_("Reply overdue"),
    "plan": N_("Plan waiting"),
    "review": N_("Review due"),
    "paused": N_("Paused"),
}
SORTS: dict[str, str] = {
    "urgency": N_("Most urgent first"),
    "name": N_("Name"),
    "practice": N_("Last practice (longest ago first)"),
    "next": N_("Next session (soonest first)"),
    "contact": N_("Last contact (longest ago first)"),
}


def translated(choices: dict[str, str]) -> dict[str, str]:
    return {name: _(msgid) for name, msgid in choices.items()}


@dataclass(frozen=True, slots=True)
class QueueChild:
    """What the queue shows of a child, read as plain columns (issue 17)."""

    first_name: str
    last_name: str
    date_of_birth: date

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age(self, today: date) -> int:
        return age_on(self.date_of_birth, today)


@dataclass(frozen=True, slots=True)
class QueueCase:
    """What the queue reads of a case: no Case, Child, link or User objects for a list of 40."""

    id: int
    status: CaseStatus
    child: QueueChild


@dataclass
class QueueRow:
    case: Case | QueueCase
    is_primary: bool
    urgencies: list[Urgency]
    reason: str
    alert_groups: list[AlertGroup]
    flags: dict[str, Any]
    last_practice: datetime | None
    practice_week: int
    next_session: datetime | None
    last_contact: datetime | None
    # (name, household) of each current guardian link, in the order the links were made.
    guardian_people: list[tuple[str, str]] = field(default_factory=list)

    @property
    def guardians(self) -> list[str]:
        return [name for name, _household in self.guardian_people]

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


@cache
def _alerts_statement(role: Role | None) -> Select[*tuple[Any, ...]]:
    """The open alerts of the cases (`queries.case_scope`), built once (on first use) and reused
    with each request's values (issue 17: building the queue's statements anew was a fifth of its
    cost); so are the others here. Plain columns (AlertRow), not CareAlert entities."""
    return select(
        CareAlert.case_id,
        CareAlert.id,
        CareAlert.kind,
        CareAlert.evidence,
        CareAlert.created_at,
        CareAlert.summary_words,
        CareAlert.summary,
    ).where(CareAlert.case_id.in_(queries.case_scope(role)), CareAlert.resolved_at.is_(None))


def _open_alert_groups(
    case_ids: list[int], user: User | None, now: datetime
) -> dict[int, list[AlertGroup]]:
    """The open alerts of `case_ids` grouped by cause; with `user`, `case_ids` are all the cases
    the user can see (`queries.caseload_flags`)."""
    if not case_ids:
        return {}
    found: dict[int, list[AlertRow]] = {}
    statement = _alerts_statement(user.role if user is not None else None)
    for case_id, *alert in db.read_columns(statement, queries.scope_values(case_ids, user, now)):
        found.setdefault(case_id, []).append(AlertRow(*alert))
    return {cid: group_by_cause(alerts) for cid, alerts in found.items()}


def _timeline_columns() -> tuple[Any, Any, Any]:
    """Per case (`Case.id` of the enclosing statement): practices since the `since` parameter,
    the latest practice and the next session scheduled after `now`, as one subquery each
    (issue 17: a grouped max over every practice of 40 cases read ~10,000 index entries, ~6 ms;
    per case it is one index seek)."""
    practice = PracticeAttempt
    return (
        select(func.count())
        .where(practice.case_id == Case.id, practice.practiced_at >= bindparam("since"))
        .scalar_subquery(),
        select(func.max(practice.practiced_at))
        .where(practice.case_id == Case.id)
        .scalar_subquery(),
        select(func.min(TherapySession.starts_at))
        .where(
            TherapySession.case_id == Case.id,
            TherapySession.status == SessionStatus.SCHEDULED,
            TherapySession.starts_at > bindparam("now"),
        )
        .scalar_subquery(),
    )


@cache
def _timeline_statement() -> Select[*tuple[Any, ...]]:
    """The timeline of each of the `case_ids` (for `build_queue`: `caseload_queue` reads it
    with the cases)."""
    return select(Case.id, *_timeline_columns()).where(
        Case.id.in_(bindparam("case_ids", expanding=True))
    )


def _timeline_values(now: datetime) -> dict[str, datetime]:
    return {"since": now - timedelta(days=7), "now": now}


Timeline = tuple[int, datetime | None, datetime | None]


def _timelines(case_ids: list[int], now: datetime) -> dict[int, Timeline]:
    """(practices in the last 7 days, latest practice, next session) per case."""
    if not case_ids:
        return {}
    rows = db.read_columns(_timeline_statement(), {"case_ids": case_ids, **_timeline_values(now)})
    return {case_id: (int(week or 0), last, upcoming) for case_id, week, last, upcoming in rows}


def _urgencies(
    case: Case | QueueCase,
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
    case: Case | QueueCase,
    top: Urgency | None,
    flags: dict[str, Any],
    groups: list[AlertGroup],
    last_practice: datetime | None,
    days: LocalDates,
) -> str:
    """One line saying why this family is where it is in the queue. `days` says each day once."""
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
                day=days.of_date(flags["review_due"]),
            )
        )
    if top is Urgency.NO_PRACTICE:
        if last_practice is None:
            return str(_("No practice logged for 7 days."))
        return str(_("No practice since %(day)s.", day=days(last_practice, "day")))
    return groups[0].alerts[0].summary_text if groups else ""


def build_queue(user: User, cases: list[Case], *, now: datetime, today: date) -> list[QueueRow]:
    """The queue of these cases (loaded with their team, as `cases_for` gives them)."""
    return _assemble(
        [
            (
                case,
                any(
                    link.therapist_id == user.id and link.is_primary and link.is_current
                    for link in case.therapist_links
                ),
                [
                    (link.guardian.display_name, link.household)
                    for link in case.guardian_links
                    if link.is_current(now)
                ],
            )
            for case in cases
        ],
        now=now,
        today=today,
    )


@cache
def _caseload_statement(role: Role) -> Select[*tuple[Any, ...]]:
    """The cases a user of `role` can see (the `user_id` parameter; the scoped root of every
    read, AZ-03), each with its child, whether the user is its current primary therapist, and
    each link current at `now` with its guardian's name (a case with none: one row of NULLs).
    Built once per role; each request binds the person and the time (issue 17)."""
    user_id: BindParameter[int] = bindparam("user_id")
    now: BindParameter[datetime] = bindparam("now")
    mine = aliased(CaseTherapist)
    primary = (
        select(mine.id)
        .where(
            mine.case_id == Case.id,
            mine.therapist_id == user_id,
            mine.is_primary,
            mine.ended_at.is_(None),
        )
        .exists()
    )
    # GuardianLink.is_current(now), in the join: an ended or future link gives no row.
    current = and_(
        GuardianLink.case_id == Case.id,
        GuardianLink.valid_from <= now,
        or_(GuardianLink.valid_to.is_(None), GuardianLink.valid_to > now),
    )
    visible = queries.case_ids_visible_to(role, user_id, now)
    # The timeline (`_timeline_columns`), with the cases: one statement fewer. Once per case, in
    # a table of its own: in the select list its subqueries ran once per row, and a case with
    # two current guardians is two rows (issue 17: 54 runs each for 40 cases on the bench data).
    # OFFSET 0 keeps the table apart; both databases would otherwise merge it into the join.
    week, last, upcoming = _timeline_columns()
    timeline = (
        select(Case.id, week.label("week"), last.label("last"), upcoming.label("upcoming"))
        .where(Case.id.in_(visible))
        .offset(0)
        .subquery("timeline")
    )
    return (
        select(
            Case.id,
            Case.status,
            Child.stored_first_name,
            # Whether the name was removed, not when: no moment to read for each row.
            Child.name_removed_at.is_not(None),
            Child.last_name,
            Child.date_of_birth,
            primary,
            User.display_name,
            GuardianLink.household,
            timeline.c.week,
            timeline.c.last,
            timeline.c.upcoming,
        )
        .join(Child, Case.child_id == Child.id)
        .outerjoin(GuardianLink, current)
        .outerjoin(User, User.id == GuardianLink.guardian_id)
        .join(timeline, timeline.c.id == Case.id)
        .where(Case.id.in_(visible))
        .order_by(Case.id, GuardianLink.id)
    )


def caseload_queue(user: User, *, now: datetime, today: date) -> list[QueueRow]:
    """`build_queue(user, cases_for(user), ...)` with the cases read as plain columns: one
    statement for the cases, their children and current guardians, instead of three loading
    entities."""
    entries: dict[int, tuple[QueueCase, bool, list[tuple[str, str]]]] = {}
    timelines: dict[int, Timeline] = {}
    db.session.flush()  # what the session would flush before a read (the reads go round it)
    values = {"user_id": user.id, **_timeline_values(now)}
    for row in db.read_columns(_caseload_statement(user.role), values):
        (case_id, status, first, removed, last, born, primary, name, household, *timeline) = row
        entry = entries.get(case_id)
        if entry is None:
            child = QueueChild(shown_first_name(first, bool(removed)), last, born)
            entry = entries[case_id] = (QueueCase(case_id, status, child), bool(primary), [])
            week, practiced, upcoming = timeline
            timelines[case_id] = (int(week or 0), practiced, upcoming)
        if household is not None:  # an outer join without a current link gives NULLs
            entry[2].append((name, household))
    return _assemble(
        list(entries.values()), now=now, today=today, timelines=timelines, everyone_of=user
    )


def _assemble(
    entries: list[tuple[Case | QueueCase, bool, list[tuple[str, str]]]],
    *,
    now: datetime,
    today: date,
    timelines: dict[int, Timeline] | None = None,
    everyone_of: User | None = None,
) -> list[QueueRow]:
    """The rows of these cases; `timelines` when they were read with the cases; `everyone_of`
    when they are all the cases that user can see (the flags and alerts are read as such)."""
    case_ids = [case.id for case, _primary, _guardians in entries]
    flags = queries.caseload_flags(case_ids, everyone_of)
    groups = _open_alert_groups(case_ids, everyone_of, now)
    if timelines is None:
        timelines = _timelines(case_ids, now)
    days = LocalDates()
    rows = []
    for case, is_primary, guardian_people in entries:
        week, last, upcoming = timelines.get(case.id, (0, None, None))
        case_flags = flags[case.id]
        case_groups = groups.get(case.id, [])
        urgencies = _urgencies(case, case_flags, case_groups, last, now, today)
        rows.append(
            QueueRow(
                case=case,
                is_primary=is_primary,
                urgencies=urgencies,
                reason=_reason(
                    case, urgencies[0] if urgencies else None, case_flags, case_groups, last, days
                ),
                alert_groups=case_groups,
                flags=case_flags,
                last_practice=last,
                practice_week=week,
                next_session=upcoming,
                last_contact=case_flags["last_contact"],
                guardian_people=guardian_people,
            )
        )
    return rows


def _filters_of(row: QueueRow, today: date) -> set[str]:
    """The filters (FILTERS) that show this row, said in one pass over the row (issue 17: asked
    filter by filter, the counts were seven calls a row)."""
    urgencies, due = row.urgencies, row.flags["review_due"]
    shown = {"all"}
    if urgencies:
        shown.add("attention")
    if row.is_primary:
        shown.add("mine")
    if Urgency.REPLY_OVERDUE in urgencies:
        shown.add("reply")
    if Urgency.PLAN_SIGN_OFF in urgencies:
        shown.add("plan")
    if due is not None and due <= today + timedelta(days=REVIEW_SOON_DAYS):
        shown.add("review")
    if row.case.status is CaseStatus.PAUSED:
        shown.add("paused")
    return shown


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
    return _by_urgency


# The kinds that wait on one row of the flags: since when the oldest of them has waited.
_SINCE = {
    Urgency.CONSENT_WITHDRAWN: "since_consent",
    Urgency.FAMILY_REQUEST: "since_tasks",
    Urgency.FAMILY_NOTE: "since_notes",
}


def _by_urgency(row: QueueRow) -> tuple[int, datetime, str]:
    """The most urgent first; within one kind, the longest waiting first (one call a row: the
    sort asks it of every row)."""
    top = row.urgencies[0] if row.urgencies else None
    since: datetime | None
    if top in _SINCE:
        since = row.flags[_SINCE[top]]
    else:
        since = row.alert_groups[0].alerts[0].created_at if row.alert_groups else None
    return (
        top or 99,
        (since or FAR_FUTURE).replace(tzinfo=None),
        row.case.child.last_name.casefold(),
    )


def view_of(rows: list[QueueRow], state: QueueState, today: date) -> list[QueueRow]:
    shown = rows
    if state.filter != "all":  # "all" shows every row
        shown = [row for row in rows if state.filter in _filters_of(row, today)]
    if state.q:
        shown = [row for row in shown if _searched(row, state.q)]
    return sorted(shown, key=_sort_key(state.sort))


def filter_counts(rows: list[QueueRow], today: date) -> dict[str, int]:
    counts = Counter(name for row in rows for name in _filters_of(row, today))
    return {name: counts[name] for name in FILTERS}


# On the page (issue 17): a caseload of 40 asked url_for ~160 times, formatted ~120 dates and
# translated each guardian's household anew. These do it once per endpoint, day or word.

_PLACEHOLDER = 918273645


class RowPaths:
    """`path(endpoint, case_id=…)` is `url_for(endpoint, case_id=…)`: the path is built once per
    endpoint around a placeholder id, and each row's id goes in its place."""

    def __init__(self) -> None:
        self._made: dict[tuple[str, str], tuple[str, str]] = {}

    def _parts(self, endpoint: str, name: str) -> tuple[str, str]:
        parts = self._made.get((endpoint, name))
        if parts is None:
            placeholder: dict[str, Any] = {name: _PLACEHOLDER}
            built = url_for(endpoint, **placeholder)
            head, found, tail = built.partition(str(_PLACEHOLDER))
            assert found and str(_PLACEHOLDER) not in tail, built
            parts = self._made[(endpoint, name)] = (head, tail)
        return parts

    def __call__(self, endpoint: str, **value: int) -> str:
        ((name, ident),) = value.items()
        head, tail = self._parts(endpoint, name)
        return f"{head}{int(ident)}{tail}"

    def of(self, endpoint: str, name: str = "case_id") -> Callable[[int], str]:
        """`path(endpoint, name=…)` as a function of the id alone, for a link every row has."""
        head, tail = self._parts(endpoint, name)
        return lambda ident: f"{head}{int(ident)}{tail}"


class LocalDates:
    """`local(value, shape)` is the `local` filter (portal.i18n.local_datetime) for the shapes a
    row shows ("day", "weekday+time"), through portal.i18n.moments: the zone's offset found once
    per UTC day, not per moment (issue 17: pytz's conversion was a third of working out the
    caseload's rows); each day and each time of day are said once per process."""

    def __init__(self) -> None:
        self._shapes: dict[str, Callable[[datetime], str]] = {}
        self._days: dict[date, str] = {}

    def __call__(self, value: datetime, shape: str) -> str:
        said = self._shapes.get(shape)
        if said is None:
            said = self._shapes[shape] = moments(shape)
        return said(value)

    def of_date(self, value: date) -> str:
        """`local_date(value, "day")` (a calendar day, no time zone), each day said once."""
        said = self._days.get(value)
        if said is None:
            said = self._days[value] = local_date(value, "day")
        return said


class ShownRow(NamedTuple):
    """What one row of the caseload shows, worked out in Python (issue 17: rendering 40 rows
    through Jinja, with a path, a date, a word or a sentence asked from the template for each,
    was ~110 µs a row). The template only places these; `shown_rows` makes them."""

    id: int
    attention: str  # the row's extra classes (" queue-attention urgency-3"), or ""
    path: str  # the case's page
    name: str
    age: int
    status: str  # the case's status when it is not active ("paused"), else ""
    status_label: str
    is_primary: bool
    guardians: str  # "Ana Okafor (mother), Ben Okafor (father)", or "" for none yet
    before_path: str
    for_child: Markup  # "for Maya", after each link, for screen readers
    top: str  # the top urgency's label, "" when nothing is urgent
    reason: str
    rupture: bool
    evidence: str  # where the row's link goes ("" for a rupture with no feedback to open)
    evidence_words: str
    also: list[str]  # the other urgencies' labels
    awaiting: Markup | None  # "2 awaiting your reply", when none of them is past its reply time
    threads_path: str  # where `awaiting` links ("" without it)
    consent_note: bool  # paused with no withdrawn consent at the top: a note links to the plan
    plan_path: str  # where the consent note links ("" without it)
    family_waits: bool  # a proposed plan waits for the family, not for the therapist
    progress_path: str
    tries: Markup  # "3 tries"
    last: Markup | None  # "last Nov 30"
    next_at: str
    contacted: str


# A row's extra classes for its top urgency (the template's "queue-attention urgency-3").
_ATTENTION = {urgency: f" queue-attention urgency-{urgency.value}" for urgency in Urgency}

# Where a row's link goes for its top urgency, and what it says (OTHER_ALERT: the alert itself).
_EVIDENCE: dict[Urgency, tuple[str, str]] = {
    Urgency.RUPTURE: ("feedback.case_feedback", N_("Open the feedback")),
    Urgency.CONSENT_WITHDRAWN: ("plans.plan_hub", N_("Read the notice")),
    Urgency.FAMILY_NOTE: ("feedback.case_feedback", N_("Open the note")),
    Urgency.REPLY_OVERDUE: ("messages.case_threads", N_("Open the message")),
    Urgency.PLAN_SIGN_OFF: ("plans.plan_hub", N_("Open the plan")),
    Urgency.FAMILY_REQUEST: ("plans.plan_hub", N_("Open the plan")),
    Urgency.REVIEW_OVERDUE: ("plans.plan_hub", N_("Open the plan")),
    Urgency.NO_PRACTICE: ("ladders.progress", N_("See practice")),
    Urgency.OTHER_ALERT: ("feedback.case_feedback", N_("See the alert")),
}


def _as_trans(text: str) -> Markup:
    """What `{% trans %}` gives: the catalogue's text as markup, the values in it escaped (they
    were escaped before `gettext` put them in, which keeps its one-full-stop rule)."""
    return Markup(text)  # noqa: S704  # nosec B704  # XS-02 allowlist: catalogue text, values escaped


# Stands for a value while a sentence is said once for the page (`_sentence_with`).
_VALUE = "\x00value\x00"


def _sentence_with(msgid: str, name: str) -> Callable[[str], Markup]:
    """`value -> gettext(msgid, name=escape(value))` as `{% trans %}` gives it, the sentence looked
    up once for the page and each value put in its place (issue 17: a lookup a row). A value that
    ends with a full stop goes through `gettext` itself, for its one-full-stop rule."""
    head, found, tail = gettext(msgid, **{name: _VALUE}).partition(_VALUE)
    once = bool(found) and _VALUE not in tail

    def said(value: str) -> Markup:
        escaped = escape(value)
        if not once or escaped.endswith("."):
            return _as_trans(gettext(msgid, **{name: escaped}))
        return _as_trans(f"{head}{escaped}{tail}")

    return said


def _evidence(row: QueueRow, top: Urgency, path: RowPaths) -> str:
    """Where the row's link goes for its top urgency ("" for a rupture with no feedback)."""
    endpoint = _EVIDENCE[top][0]
    case_id, flags = row.case.id, row.flags
    if top is Urgency.RUPTURE:
        group = next(g for g in row.alert_groups if g.is_rupture)
        if group.feedback_id:
            return f"{path(endpoint, case_id=case_id)}#feedback-{group.feedback_id}"
        return ""
    if top is Urgency.CONSENT_WITHDRAWN:
        return f"{path(endpoint, case_id=case_id)}#tasks-title"
    if top is Urgency.FAMILY_NOTE:
        return f"{path(endpoint, case_id=case_id)}#note-{flags['oldest_notes']}"
    if top is Urgency.REPLY_OVERDUE and flags["overdue_thread"]:
        return path("messages.thread", thread_id=flags["overdue_thread"])
    if top is Urgency.OTHER_ALERT:
        return f"{path(endpoint, case_id=case_id)}#alert-{row.alert_groups[0].alerts[0].id}"
    return path(endpoint, case_id=case_id)


def shown_rows(rows: list[QueueRow], today: date) -> list[ShownRow]:
    """The rows as the page shows them: each path from a path built once per endpoint, each
    date, label, household, count and sentence said once for the page, nothing asked per row of
    Jinja. What is said once is kept by `functools.cache`, which answers a value it has seen
    without a Python call (issue 17)."""
    catalogue = translations()
    path = RowPaths()
    case_page = path.of("cases.case_page")
    before_session = path.of("feedback.before_session")
    progress = path.of("ladders.progress")
    # A row's last practice, next session and last contact, as `local` would say them.
    day, weekday_time = moments("day"), moments("weekday+time")
    word = cache(lambda msgid: str(catalogue.ugettext(msgid)))
    household = cache(kin)
    status_label = cache(label)
    for_child = _sentence_with("for %(first_name)s", "first_name")
    tries = cache(
        lambda count: _as_trans(
            catalogue.ungettext("%(count)s try", "%(count)s tries", count)
            % {"count": count, "num": count}
        )
    )
    last_on = cache(lambda day: _as_trans(gettext("last %(when)s", when=escape(day))))
    awaiting = cache(
        lambda count: _as_trans(
            gettext("%(awaiting_reply)s awaiting your reply", awaiting_reply=count)
        )
    )
    active = CaseStatus.ACTIVE
    shown = []
    for row in rows:
        case, flags, urgencies = row.case, row.flags, row.urgencies
        top = urgencies[0] if urgencies else None
        case_id, child, status = case.id, case.child, case.status
        practiced = day(row.last_practice) if row.last_practice else ""
        next_at = weekday_time(row.next_session) if row.next_session else "—"
        contacted = day(row.last_contact) if row.last_contact else "—"
        awaits = bool(flags["awaiting_reply"] and not flags["reply_overdue"])
        consent_note = status is CaseStatus.PAUSED and Urgency.CONSENT_WITHDRAWN not in urgencies
        shown.append(
            ShownRow(
                id=case_id,
                attention=_ATTENTION[top] if top is not None else "",
                path=case_page(case_id),
                name=child.full_name,
                age=child.age(today),
                status="" if status is active else status.value,
                status_label="" if status is active else status_label(status),
                is_primary=row.is_primary,
                guardians=", ".join(
                    f"{name} ({household(kind)})" for name, kind in row.guardian_people
                ),
                before_path=before_session(case_id),
                for_child=for_child(child.first_name),
                top=word(_URGENCY_WORDS[top]) if top is not None else "",
                reason=row.reason,
                rupture=top is Urgency.RUPTURE,
                evidence=_evidence(row, top, path) if top is not None else "",
                evidence_words=word(_EVIDENCE[top][1]) if top is not None else "",
                also=[word(_URGENCY_WORDS[more]) for more in urgencies[1:]],
                awaiting=awaiting(flags["awaiting_reply"]) if awaits else None,
                threads_path=path("messages.case_threads", case_id=case_id) if awaits else "",
                consent_note=consent_note,
                plan_path=path("plans.plan_hub", case_id=case_id) if consent_note else "",
                family_waits=bool(flags["proposed"] and not flags["sign_off"]),
                progress_path=progress(case_id),
                tries=tries(row.practice_week),
                last=last_on(practiced) if row.last_practice else None,
                next_at=next_at,
                contacted=contacted,
            )
        )
    return shown
