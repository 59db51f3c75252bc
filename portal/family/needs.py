""" "What needs you": everything waiting for one guardian, most urgent first (issue 13, DESIGN §10).

One function, `needs_of(user)`, answers both the list at the top of the family page and the badge
in the navigation, so the two can never disagree. It is one SQL statement (a UNION ALL of one
branch per kind of thing) whatever the number of children, sessions or messages, and it is computed
once per request. Each row is a recorded fact that is still open: a proposed plan version this
guardian has not answered, a held session they were recorded at (after they joined the care team)
without their check-in, last week's home check-in not sent (if they were on the team that week), a
reward asked for and not confirmed, a step idea decided and not yet seen, unread messages, a
consent whose document has a newer version. When the guardian does it, the fact closes and the row
is gone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from functools import cache
from typing import Any

from flask import g, url_for
from sqlalchemy import (
    Integer,
    String,
    Text,
    and_,
    bindparam,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy import (
    case as sql_case,
)

from portal import db
from portal.consent_documents import CONSENT_DOCUMENTS
from portal.db import UTCDateTime, utcnow, written
from portal.i18n import babel_gettext as _
from portal.i18n import local_date, local_datetime
from portal.models import (
    Case,
    CaseStatus,
    ConsentAction,
    ConsentKind,
    ConsentRecord,
    GuardianLink,
    Role,
    User,
)
from portal.models.feedback import (
    SessionAttendance,
    SessionFeedback,
    SessionStatus,
    TherapySession,
    WeeklyCheckin,
)
from portal.models.ladders import Redemption, Reward, StepSuggestion, SuggestionStatus
from portal.models.messages import Message, MessageThread, ThreadRead
from portal.models.plans import PlanResponse, PlanStatus, PlanVersion, ResponseKind

# Most urgent first. A plan waiting for an answer holds up the child's care; a session check-in
# is worth most while the session is fresh; messages wait for a person; the rest can wait a day.
URGENCY = {
    "plan": 10,
    "session": 20,
    "messages": 30,
    "reward": 40,
    "consent": 50,
    "weekly": 60,
    "step_idea": 70,
}


@dataclass(frozen=True)
class Need:
    kind: str
    case_id: int
    ref_id: int  # the plan version, session, redemption, suggestion or consent record
    number: int  # plan version number, unread count, or 1 for an approved step idea
    at: datetime | None
    text: str  # change summary, reward title, step idea title, consent kind

    @property
    def urgency(self) -> int:
        return URGENCY[self.kind]


def _current_links() -> Any:
    """This guardian's current links (case, whether they consent, since when), once in the
    statement (a WITH), however many branches read them (issue 17: each branch had its own copy,
    and the moment was bound and converted again for each)."""
    return (
        select(GuardianLink.case_id, GuardianLink.can_consent, GuardianLink.valid_from)
        .where(
            GuardianLink.guardian_id == bindparam("user_id"),
            GuardianLink.valid_from <= bindparam("now"),
            or_(GuardianLink.valid_to.is_(None), GuardianLink.valid_to > bindparam("now")),
        )
        .cte("current_links")
    )


def _row(kind: str, case_id: Any, ref_id: Any, number: Any, at: Any, text: Any) -> list[Any]:
    return [
        literal(kind, String(16)).label("kind"),
        case_id.label("case_id"),
        type_coerce(ref_id, Integer).label("ref_id"),
        type_coerce(number, Integer).label("number"),
        type_coerce(at, UTCDateTime(timezone=True)).label("at"),
        type_coerce(text, Text).label("text"),
    ]


def _version_key(kind: ConsentKind) -> str:
    return f"version_{kind.value}"


def _parameters(user: User, now: datetime) -> dict[str, Any]:
    """The values of one guardian's statement at `now` (the statement itself is built once)."""
    from portal.feedback.services import FEEDBACK_WINDOW_DAYS, checkin_week_due

    due_week = checkin_week_due(now)
    return {
        "user_id": user.id,
        "now": now,
        "guardian_key": f"guardian:{user.id}",
        "session_window": now - timedelta(days=FEEDBACK_WINDOW_DAYS),
        "due_week": due_week,
        "joined_by_week": datetime.combine(due_week + timedelta(days=1), time.min, tzinfo=UTC),
        # A document's current version is a value, read each time (a new wording is a new
        # version: the statement never holds an old one).
        **{_version_key(kind): doc.version for kind, doc in CONSENT_DOCUMENTS.items()},
    }


@cache
def _statement() -> Any:
    """The one statement of `needs_of`, with the guardian, the moment and the documents' versions
    as bound parameters (`_parameters`): built once and reused (issue 17: building this union of
    seven branches anew was a third of the family page's cost)."""
    from portal.messages.queries import bound_visible_thread_ids

    user_id: Any = bindparam("user_id")
    links = _current_links()
    my_cases = select(links.c.case_id)
    answered_plan = exists().where(
        PlanResponse.plan_version_id == PlanVersion.id,
        PlanResponse.responder_id == user_id,
        PlanResponse.kind != ResponseKind.ASSENT,
    )
    plans = select(
        *_row(
            "plan",
            PlanVersion.case_id,
            PlanVersion.id,
            PlanVersion.number,
            PlanVersion.proposed_at,
            PlanVersion.change_summary,
        )
    ).where(
        # Written into the statement, not bound: SQLite plans a statement again at every execution
        # when a bound value could decide whether a partial index applies (plan_versions has two,
        # on status), and planning this union again was most of its time (0.6 of 0.75 ms).
        PlanVersion.status == written(PlanStatus.PROPOSED),
        PlanVersion.case_id.in_(select(links.c.case_id).where(links.c.can_consent.is_(True))),
        ~answered_plan,
    )
    answered_session = exists().where(
        SessionFeedback.session_id == TherapySession.id,
        SessionFeedback.respondent_key == bindparam("guardian_key"),
    )
    # The rule `feedback.services.feedback_due` applies when sending check-ins: only a guardian
    # recorded at the session is asked about it, and never about one from before they joined the
    # care team (their current link began after it started).
    attended = exists().where(
        SessionAttendance.session_id == TherapySession.id,
        SessionAttendance.attendee_key == bindparam("guardian_key"),
    )
    member_then = exists().where(
        links.c.case_id == TherapySession.case_id,
        links.c.valid_from <= TherapySession.starts_at,
    )
    sessions = select(
        *_row(
            "session",
            TherapySession.case_id,
            TherapySession.id,
            literal(1),
            TherapySession.starts_at,
            literal(""),
        )
    ).where(
        TherapySession.case_id.in_(my_cases),
        TherapySession.status == SessionStatus.HELD,
        TherapySession.starts_at >= bindparam("session_window"),
        attended,
        member_then,
        ~answered_session,
    )
    # As the care scan and the reminders do: a guardian who joined after the week asked about is
    # not asked about it (`link.valid_from.date() <= due_week`).
    member_that_week = exists().where(
        links.c.case_id == Case.id,
        links.c.valid_from < bindparam("joined_by_week"),
    )
    week_sent = exists().where(
        WeeklyCheckin.case_id == Case.id,
        WeeklyCheckin.guardian_id == user_id,
        WeeklyCheckin.week_start == bindparam("due_week"),
    )
    weekly = select(*_row("weekly", Case.id, literal(0), literal(1), null(), literal(""))).where(
        Case.id.in_(my_cases), Case.status == CaseStatus.ACTIVE, member_that_week, ~week_sent
    )
    rewards = (
        select(
            *_row(
                "reward",
                Redemption.case_id,
                Redemption.id,
                literal(1),
                Redemption.requested_at,
                Reward.title,
            )
        )
        .join(Reward, Reward.id == Redemption.reward_id)
        .where(Redemption.case_id.in_(my_cases), Redemption.confirmed_at.is_(None))
    )
    ideas = select(
        *_row(
            "step_idea",
            StepSuggestion.case_id,
            StepSuggestion.id,
            sql_case((StepSuggestion.status == SuggestionStatus.APPROVED, 1), else_=0),
            StepSuggestion.decided_at,
            StepSuggestion.title,
        )
    ).where(
        StepSuggestion.case_id.in_(my_cases),
        StepSuggestion.suggested_by_id == user_id,
        StepSuggestion.decided_at.is_not(None),
        StepSuggestion.decision_seen_at.is_(None),
    )
    # The threads this guardian is in (the membership rules with bound values, as the messages
    # poll reuses them), then only their messages after the guardian's read mark: the mark bounds
    # the scan of the (thread_id, seq) index, so a long thread read to the end costs nothing (a
    # left join to the read marks read every message of every thread to count the unread ones).
    threads = bound_visible_thread_ids(Role.GUARDIAN).subquery()
    read_up_to = (
        select(ThreadRead.last_read_seq)
        .where(ThreadRead.thread_id == MessageThread.id, ThreadRead.user_id == user_id)
        .scalar_subquery()
    )
    messages = (
        select(
            *_row(
                "messages",
                MessageThread.case_id,
                literal(0),
                func.count(Message.id),
                func.max(Message.created_at),
                literal(""),
            )
        )
        .select_from(threads)
        .join(MessageThread, MessageThread.id == threads.c.id)
        .join(
            Message,
            and_(
                Message.thread_id == MessageThread.id,
                Message.seq > func.coalesce(read_up_to, 0),
            ),
        )
        .where(Message.author_id != user_id)
        .group_by(MessageThread.case_id)
    )
    # The latest record of each document and case, of this guardian's current cases only (the
    # same records as over all their cases, without reading the whole consent table).
    latest_of_kind = (
        select(func.max(ConsentRecord.id))
        .where(ConsentRecord.given_by_id == user_id, ConsentRecord.case_id.in_(my_cases))
        .group_by(ConsentRecord.case_id, ConsentRecord.kind)
    )
    current_version = sql_case(
        {kind.value: bindparam(_version_key(kind), type_=String) for kind in CONSENT_DOCUMENTS},
        value=ConsentRecord.kind,
    )
    consents = select(
        *_row(
            "consent",
            ConsentRecord.case_id,
            ConsentRecord.id,
            literal(1),
            ConsentRecord.recorded_at,
            ConsentRecord.kind,
        )
    ).where(
        ConsentRecord.id.in_(latest_of_kind),
        ConsentRecord.case_id.in_(my_cases),
        ConsentRecord.action == ConsentAction.GRANTED,
        ConsentRecord.kind != ConsentKind.CHILD_ASSENT,
        ConsentRecord.document_version != current_version,
    )
    return union_all(plans, sessions, weekly, rewards, ideas, messages, consents)


def needs_of(user: User) -> list[Need]:
    """Everything waiting for this guardian, most urgent first; one query, once per request."""
    if not user.is_authenticated or not user.is_guardian:
        return []
    cached: list[Need] | None = g.get("guardian_needs")
    if cached is not None:
        return cached
    rows = db.read_columns(_statement(), _parameters(user, utcnow())).all()
    needs = sorted(
        (
            Need(
                kind=row.kind,
                case_id=row.case_id,
                ref_id=int(row.ref_id or 0),
                number=int(row.number or 0),
                at=row.at,
                text=str(row.text or ""),
            )
            for row in rows
        ),
        key=lambda need: (need.urgency, need.at or datetime.min, need.case_id, need.ref_id),
    )
    g.guardian_needs = needs
    return needs


def reading_on_this_page(case_id: int, unread: int) -> None:
    """A thread page marks the unread messages it shows as read as it loads (an htmx POST): its
    badges count them as read already, so nobody is told of unread messages they are reading."""
    g.messages_on_screen = (case_id, unread)


def _on_screen() -> tuple[int, int] | None:
    """(case id, unread messages) that this page shows, as `reading_on_this_page` noted them."""
    on_screen: tuple[int, int] | None = g.get("messages_on_screen")
    return on_screen


def unread_on_this_page() -> int:
    on_screen = _on_screen()
    return on_screen[1] if on_screen else 0


def badge_needs(user: User) -> list[Need]:
    """`needs_of` less the unread messages this page shows (`reading_on_this_page`): what the
    navigation badges count."""
    needs = needs_of(user)
    on_screen = _on_screen()
    if on_screen is None:
        return needs
    case_id, unread = on_screen
    left = []
    for need in needs:
        if need.kind == "messages" and need.case_id == case_id:
            if need.number <= unread:
                continue
            need = replace(need, number=need.number - unread)
        left.append(need)
    return left


def forget_needs() -> None:
    """A request that closed something re-reads the list before it renders."""
    g.pop("guardian_needs", None)


def unread_messages(needs: list[Need]) -> int:
    return sum(need.number for need in needs if need.kind == "messages")


@dataclass(frozen=True)
class NeedView:
    """What the family page shows for one need: a line, a detail, and the one tap that does it."""

    need: Need
    title: str
    detail: str
    action: str
    url: str
    # A need done in place (confirming a reward) posts here instead of following a link.
    post_url: str | None = None


def describe(need: Need, child_name: str) -> NeedView:
    if need.kind == "plan":
        return NeedView(
            need,
            _(
                "Version %(number)s of %(name)s's plan waits for your answer",
                number=need.number,
                name=child_name,
            ),
            need.text.strip().splitlines()[0] if need.text.strip() else "",
            _("Read and answer"),
            url_for("plans.version", plan_id=need.ref_id),
        )
    if need.kind == "session":
        when = local_datetime(need.at, "weekday_long")
        return NeedView(
            need,
            _("How was the session of %(when)s?", when=when),
            _("A one-minute check-in, seen only by %(name)s's therapists.", name=child_name),
            _("Give feedback"),
            url_for("feedback.give_feedback", case_id=need.case_id, session_id=need.ref_id),
        )
    if need.kind == "messages":
        return NeedView(
            need,
            _(
                "%(count)s unread message about %(name)s",
                count=need.number,
                name=child_name,
            )
            if need.number == 1
            else _(
                "%(count)s unread messages about %(name)s",
                count=need.number,
                name=child_name,
            ),
            "",
            _("Read"),
            url_for("messages.case_threads", case_id=need.case_id),
        )
    if need.kind == "reward":
        return NeedView(
            need,
            _("%(name)s asked for a reward: “%(title)s”", name=child_name, title=need.text),
            _("Confirm here once %(name)s has had it.", name=child_name),
            _("Confirm it was given"),
            url_for("ladders.progress", case_id=need.case_id),
            post_url=url_for(
                "ladders.confirm_redemption", case_id=need.case_id, redemption_id=need.ref_id
            ),
        )
    if need.kind == "consent":
        document = CONSENT_DOCUMENTS[ConsentKind(need.text)]
        return NeedView(
            need,
            _("“%(title)s” has new wording to read", title=document.title),
            _("Please read it and say whether you agree."),
            _("Read it"),
            url_for("family.consent_page", case_id=need.case_id, kind=need.text),
        )
    if need.kind == "weekly":
        from portal.feedback.services import checkin_week_due

        return NeedView(
            need,
            _(
                "The weekly home check-in for %(name)s",
                name=child_name,
            ),
            _("About the week of %(week)s.", week=local_date(checkin_week_due(), "month_day")),
            _("Send the check-in"),
            url_for("feedback.family_checkins", case_id=need.case_id) + "#week-title",
        )
    approved = need.number == 1
    return NeedView(
        need,
        _("Your step idea “%(title)s” was added to the ladder", title=need.text)
        if approved
        else _("Your step idea “%(title)s” was answered", title=need.text),
        _("The therapist decided on it; see it with the practice."),
        _("See it"),
        url_for("ladders.progress", case_id=need.case_id) + "#ideas",
    )


def describe_all(needs: list[Need], names: dict[int, str]) -> list[NeedView]:
    """The needs of the cases in `names` (case id: the child's first name), described."""
    return [describe(need, names[need.case_id]) for need in needs if need.case_id in names]
