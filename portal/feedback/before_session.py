"""Before the session: what happened with one case since the last held session, on one page
(issue 14). For the case's therapists only. A fixed number of bounded reads whatever the history.

Predictions that did not come true: a practice entry (8-12 and teens) keeps the child's
prediction and what happened as free text. Whether the feared outcome happened is not guessed
from the words; the therapist reads the pair here once and says (`do_judge_prediction`,
stored in `PracticeAttempt.prediction_came_true`). The page then singles out the entries since the
last session whose feared outcome did not happen, lists the ones not read yet with the two
buttons, and names the ones that came true.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any, NamedTuple

from babel.numbers import format_decimal
from flask import url_for
from flask_babel import get_locale
from sqlalchemy import bindparam, func, literal, null, select, union_all

from portal import db
from portal.db import written
from portal.feedback.alerts import AlertGroup, AlertRow, group_by_cause
from portal.i18n import moments
from portal.models import User
from portal.models.case_rows import AnyCase
from portal.models.feedback import (
    CareAlert,
    Respondent,
    SessionAgenda,
    SessionAttendance,
    SessionFeedback,
    SessionStatus,
    TherapySession,
    WeeklyCheckin,
)
from portal.models.ladders import Ladder, LadderStep, PracticeAttempt, StepStatus
from portal.models.messages import Message, MessageThread
from portal.models.plans import PlanStatus, PlanVersion
from portal.models.tasks import CaseTask
from portal.stored_words import said

DEFAULT_WINDOW_DAYS = 14  # when there was no held session yet
MOST_ATTEMPTS = 200

# The page reads plain rows through statements built once, with each request's values bound
# (issue 17): the ORM's entities and building the statements anew were most of its cost.


class SessionRow(NamedTuple):
    id: int
    starts_at: datetime


class LadderRow(NamedTuple):
    id: int
    title: str
    weekly_target: int


class StepRow(NamedTuple):
    id: int
    ladder_id: int
    title: str
    status: StepStatus
    mastered_at: datetime | None
    retired_at: datetime | None


class AttemptRow(NamedTuple):
    """One practice entry, as the page shows it."""

    id: int
    step_id: int
    practiced_at: datetime
    fear_before: int | None
    fear_peak: int
    fear_after: int | None
    prediction: str
    outcome: str
    prediction_came_true: bool | None


class AnswerRow(NamedTuple):
    """One answer about the last session; `guardian_name` is None for the child's."""

    id: int
    respondent: Respondent
    respondent_key: str
    overall: int
    comment: str
    guardian_name: str | None


class EarlierRow(NamedTuple):
    respondent_key: str
    overall: int


class AttendeeRow(NamedTuple):
    attendee_key: str
    guardian_id: int | None
    guardian_name: str | None


class WeeklyRow(NamedTuple):
    week_start: date
    practice_days: int
    difficulty: int
    reducing: str
    guardian_name: str


@dataclass
class StepTrend:
    ladder: LadderRow
    step: StepRow
    attempts: list[AttemptRow]

    @property
    def direction(self) -> str:
        """ "down", "up" or "steady": the worst moment's fear, first try against the last."""
        if len(self.attempts) < 2:
            return "steady"
        change = self.attempts[-1].fear_peak - self.attempts[0].fear_peak
        if change <= -10:
            return "down"
        return "up" if change >= 10 else "steady"


@dataclass
class PracticeAgainstTarget:
    ladder: LadderRow
    tries: int
    expected: int


@dataclass
class CheckinChange:
    feedback: AnswerRow
    previous: EarlierRow | None

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.feedback.overall - self.previous.overall


@dataclass
class Prep:
    since: datetime
    last_session: SessionRow | None
    next_session: datetime | None  # when it starts
    practice: list[PracticeAgainstTarget] = field(default_factory=list)
    trends: list[StepTrend] = field(default_factory=list)
    mastered: list[StepRow] = field(default_factory=list)
    predictions: list[AttemptRow] = field(default_factory=list)
    # The predictions split by the therapist's reading (PracticeAttempt.prediction_came_true).
    disproved: list[AttemptRow] = field(default_factory=list)
    to_read: list[AttemptRow] = field(default_factory=list)
    came_true: list[AttemptRow] = field(default_factory=list)
    guardian_checkins: list[CheckinChange] = field(default_factory=list)
    # Names of the guardians who came to the last session and have not checked in about it (yet).
    checkins_waiting: list[str] = field(default_factory=list)
    child_rating: AnswerRow | None = None
    weekly: list[WeeklyRow] = field(default_factory=list)
    messages: int = 0
    tasks: list[str] = field(default_factory=list)  # the open requests' summaries, said
    alerts: list[AlertGroup] = field(default_factory=list)
    review_due: date | None = None
    agenda: str | None = None  # the agenda's text; None when there is none


@cache
def _head_statement() -> Any:
    """One row: the last held session, the next one, the plan's review date, the agenda and the
    number of messages since the last session (or since `fallback` when none was held)."""
    case_id: Any = bindparam("case_id")
    now: Any = bindparam("now")
    last = (
        select(TherapySession.id, TherapySession.starts_at)
        .where(
            TherapySession.case_id == case_id,
            TherapySession.status == SessionStatus.HELD,
            TherapySession.starts_at <= now,
        )
        .order_by(TherapySession.starts_at.desc())
        .limit(1)
    )
    last_at = last.with_only_columns(TherapySession.starts_at).scalar_subquery()
    since = func.coalesce(last_at, bindparam("fallback", type_=TherapySession.starts_at.type))
    upcoming = (
        select(TherapySession.starts_at)
        .where(
            TherapySession.case_id == case_id,
            TherapySession.status == SessionStatus.SCHEDULED,
            TherapySession.starts_at > now,
        )
        .order_by(TherapySession.starts_at)
        .limit(1)
    )
    messages = (
        select(func.count(Message.id))
        .join(MessageThread, Message.thread_id == MessageThread.id)
        .where(MessageThread.case_id == case_id, Message.created_at >= since)
    )
    review = select(PlanVersion.review_due_on).where(
        PlanVersion.case_id == case_id, PlanVersion.status == written(PlanStatus.ACTIVE)
    )
    agenda = select(SessionAgenda.text).where(SessionAgenda.case_id == case_id)
    return select(
        last.with_only_columns(TherapySession.id).scalar_subquery().label("last_id"),
        last_at.label("last_at"),
        upcoming.scalar_subquery().label("next_at"),
        messages.scalar_subquery().label("messages"),
        review.scalar_subquery().label("review_due"),
        agenda.scalar_subquery().label("agenda"),
    )


@cache
def _ladders_statement() -> Any:
    return (
        select(
            Ladder.id,
            Ladder.title,
            Ladder.weekly_target,
            LadderStep.id,
            LadderStep.title,
            LadderStep.status,
            LadderStep.mastered_at,
            LadderStep.retired_at,
        )
        .outerjoin(LadderStep, LadderStep.ladder_id == Ladder.id)
        .where(Ladder.case_id == bindparam("case_id"), Ladder.retired_at.is_(None))
        .order_by(Ladder.id, LadderStep.position, LadderStep.id)
    )


@cache
def _attempts_statement() -> Any:
    return (
        select(
            PracticeAttempt.id,
            PracticeAttempt.step_id,
            PracticeAttempt.practiced_at,
            PracticeAttempt.fear_before,
            PracticeAttempt.fear_peak,
            PracticeAttempt.fear_after,
            PracticeAttempt.prediction,
            PracticeAttempt.outcome,
            PracticeAttempt.prediction_came_true,
        )
        .where(
            PracticeAttempt.case_id == bindparam("case_id"),
            PracticeAttempt.practiced_at >= bindparam("since"),
        )
        .order_by(PracticeAttempt.practiced_at.desc())
        .limit(MOST_ATTEMPTS)
    )


def _sessions(case: AnyCase, now: datetime) -> tuple[Any, datetime]:
    fallback = now - timedelta(days=DEFAULT_WINDOW_DAYS)
    head = db.read_columns(
        _head_statement(), {"case_id": case.id, "now": now, "fallback": fallback}
    ).one()
    return head, (head.last_at if head.last_id is not None else fallback)


def _practice(prep: Prep, case: AnyCase, now: datetime) -> None:
    ladders: list[tuple[LadderRow, list[StepRow]]] = []
    for row in db.read_columns(_ladders_statement(), {"case_id": case.id}):
        ladder_id, title, target, step_id, *step = row
        if not ladders or ladders[-1][0].id != ladder_id:
            ladders.append((LadderRow(ladder_id, title, target), []))
        if step_id is not None:
            ladders[-1][1].append(StepRow(step_id, ladder_id, *step))
    attempts = [
        AttemptRow(*row)
        for row in db.read_columns(_attempts_statement(), {"case_id": case.id, "since": prep.since})
    ]
    attempts.reverse()  # oldest first, for trends
    weeks = max((now - prep.since).days, 1) / 7
    for ladder, steps in ladders:
        step_ids = {step.id for step in steps}
        mine = [a for a in attempts if a.step_id in step_ids]
        prep.practice.append(
            PracticeAgainstTarget(ladder, len(mine), round(ladder.weekly_target * weeks))
        )
        active = [step for step in steps if step.retired_at is None]
        current = next(
            (
                step
                for step in active
                if step.status in (StepStatus.PRACTISING, StepStatus.AVAILABLE)
            ),
            None,
        )
        if current is not None:
            prep.trends.append(
                StepTrend(ladder, current, [a for a in mine if a.step_id == current.id])
            )
        prep.mastered.extend(
            step
            for step in active
            if step.mastered_at is not None and step.mastered_at >= prep.since
        )
    prep.predictions = [a for a in attempts if a.prediction.strip() and a.outcome.strip()]
    prep.disproved = [a for a in prep.predictions if a.prediction_came_true is False]
    prep.to_read = [a for a in prep.predictions if a.prediction_came_true is None]
    prep.came_true = [a for a in prep.predictions if a.prediction_came_true is True]


@cache
def _last_session_statement() -> Any:
    """Who answered about the last session (came 0) and who came to it (came 1), each by id."""
    session_id: Any = bindparam("session_id")
    answers: Any = (
        select(
            literal(0, literal_execute=True).label("came"),
            SessionFeedback.id.label("ident"),
            SessionFeedback.respondent,
            SessionFeedback.respondent_key.label("key"),
            SessionFeedback.overall,
            SessionFeedback.comment,
            SessionFeedback.guardian_id,
            User.display_name,
        )
        .outerjoin(User, User.id == SessionFeedback.guardian_id)
        .where(SessionFeedback.session_id == session_id)
    )
    came: Any = (
        select(
            literal(1, literal_execute=True),
            SessionAttendance.id,
            null(),
            SessionAttendance.attendee_key,
            null(),
            null(),
            SessionAttendance.guardian_id,
            User.display_name,
        )
        .outerjoin(User, User.id == SessionAttendance.guardian_id)
        .where(SessionAttendance.session_id == session_id)
    )
    both = union_all(answers, came)
    return both.order_by(both.selected_columns.came, both.selected_columns.ident)


@cache
def _earlier_statement() -> Any:
    return (
        select(SessionFeedback.respondent_key, SessionFeedback.overall)
        .where(
            SessionFeedback.case_id == bindparam("case_id"),
            SessionFeedback.respondent_key.in_(bindparam("keys", expanding=True)),
            SessionFeedback.session_id != bindparam("session_id"),
            SessionFeedback.created_at < bindparam("starts_at"),
        )
        .order_by(SessionFeedback.created_at.desc())
        .limit(bindparam("most"))
    )


def _checkins(prep: Prep, case: AnyCase) -> None:
    last = prep.last_session
    if last is None:
        return
    answers: list[AnswerRow] = []
    attendance: list[AttendeeRow] = []
    for came, ident, respondent, key, overall, comment, guardian_id, name in db.read_columns(
        _last_session_statement(), {"session_id": last.id}
    ):
        if came:
            attendance.append(AttendeeRow(key, guardian_id, name))
        else:
            answers.append(AnswerRow(ident, respondent, key, overall, comment, name))
    keys = [a.respondent_key for a in answers if a.respondent is Respondent.GUARDIAN]
    earlier: dict[str, EarlierRow] = {}
    if keys:
        values = {
            "case_id": case.id,
            "keys": keys,
            "session_id": last.id,
            "starts_at": last.starts_at,
            "most": 10 * len(keys),
        }
        for row in db.read_columns(_earlier_statement(), values):
            earlier.setdefault(row.respondent_key, EarlierRow(*row))
    attended = {row.attendee_key for row in attendance}
    for answer in answers:
        if answer.respondent is Respondent.CHILD:
            prep.child_rating = answer
        elif answer.respondent_key in attended:
            prep.guardian_checkins.append(CheckinChange(answer, earlier.get(answer.respondent_key)))
    answered = {answer.respondent_key for answer in answers}
    prep.checkins_waiting = [
        row.guardian_name or ""
        for row in attendance
        if row.guardian_id is not None and row.attendee_key not in answered
    ]


@cache
def _weekly_statement() -> Any:
    return (
        select(
            WeeklyCheckin.week_start,
            WeeklyCheckin.practice_days,
            WeeklyCheckin.difficulty,
            WeeklyCheckin.reducing,
            User.display_name,
        )
        .join(User, User.id == WeeklyCheckin.guardian_id)
        .where(
            WeeklyCheckin.case_id == bindparam("case_id"),
            WeeklyCheckin.created_at >= bindparam("since"),
        )
        .order_by(WeeklyCheckin.week_start, WeeklyCheckin.id)
        .limit(20)
    )


@cache
def _open_items_statement() -> Any:
    """The case's open alerts (alert 1) and open family requests (alert 0, oldest first)."""
    case_id: Any = bindparam("case_id")
    alerts: Any = select(
        literal(1, literal_execute=True).label("alert"),
        CareAlert.id.label("ident"),
        CareAlert.kind,
        CareAlert.evidence,
        CareAlert.created_at.label("created"),
        CareAlert.summary_words,
        CareAlert.summary,
    ).where(CareAlert.case_id == case_id, CareAlert.resolved_at.is_(None))
    tasks: Any = select(
        literal(0, literal_execute=True),
        CaseTask.id,
        null(),
        null(),
        CaseTask.created_at,
        CaseTask.summary_words,
        CaseTask.summary,
    ).where(CaseTask.case_id == case_id, CaseTask.resolved_at.is_(None))
    both = union_all(alerts, tasks)
    columns = both.selected_columns
    return both.order_by(columns.alert, columns.created, columns.ident)


def prepare(case: AnyCase, now: datetime) -> Prep:
    db.session.flush()  # what the session would flush before a read (the reads go round it)
    head, since = _sessions(case, now)
    last = SessionRow(head.last_id, head.last_at) if head.last_id is not None else None
    prep = Prep(since=since, last_session=last, next_session=head.next_at)
    _practice(prep, case, now)
    _checkins(prep, case)
    values = {"case_id": case.id, "since": since}
    prep.weekly = [WeeklyRow(*row) for row in db.read_columns(_weekly_statement(), values)]
    prep.messages = int(head.messages or 0)
    alerts: list[AlertRow] = []
    for alert, ident, kind, evidence, created, words, summary in db.read_columns(
        _open_items_statement(), {"case_id": case.id}
    ):
        if alert:
            alerts.append(AlertRow(ident, kind, evidence, created, words, summary))
        else:
            prep.tasks.append(said(words, summary))
    prep.alerts = group_by_cause(alerts)
    prep.review_due = head.review_due
    prep.agenda = head.agenda
    return prep


_PLACEHOLDER = 918273645


@lru_cache(maxsize=2048)
def _fear_in(language: str, value: int) -> str:
    """A fear rating out of 100 said out of 10 as the page's `(value / 10)|round(1)|number` says
    it (Jinja's round, then Flask-Babel's format_decimal in the viewer's locale)."""
    return str(format_decimal(round(value / 10, 1), locale=language))


class PageHelp:
    """What the page says many times, made once per page (issue 17): the paths it links to (built
    once, each practice entry's id put in its place), the practice days (`portal.i18n.moments`)
    and the fear ratings out of 10."""

    def __init__(self, case_id: int) -> None:
        self.progress = url_for("ladders.progress", case_id=case_id)
        self.feedback = url_for("feedback.case_feedback", case_id=case_id)
        self.plan_hub = url_for("plans.plan_hub", case_id=case_id)
        judge = url_for("feedback.judge_prediction", case_id=case_id, attempt_id=_PLACEHOLDER)
        head, found, tail = judge.partition(str(_PLACEHOLDER))
        assert found and str(_PLACEHOLDER) not in tail, judge
        self._judge = (head, tail)
        self.day = moments("day")
        self._language = str(get_locale())

    def judge(self, attempt_id: int) -> str:
        """url_for("feedback.judge_prediction", case_id=…, attempt_id=attempt_id)."""
        return f"{self._judge[0]}{int(attempt_id)}{self._judge[1]}"

    def fear(self, value: int) -> str:
        return _fear_in(self._language, value)


class PredictionError(ValueError):
    """The entry has no prediction and outcome to judge."""


def do_judge_prediction(actor: User, attempt: PracticeAttempt, came_true: bool | None) -> None:
    """The therapist's reading of one practice entry: did what the child predicted (feared)
    happen? Nothing in the two free texts says so reliably (“Nobody laughed”, “Two people
    looked”), so a person decides; None takes the reading back. Only an entry with both a
    prediction and what happened can be judged."""
    if not (attempt.prediction.strip() and attempt.outcome.strip()):
        raise PredictionError("no prediction and outcome to judge")
    attempt.prediction_came_true = came_true
    db.session.flush()


def do_save_agenda(actor: User, case: AnyCase, text: str) -> SessionAgenda:
    from portal.db import utcnow

    agenda = db.session.scalars(
        select(SessionAgenda).where(SessionAgenda.case_id == case.id)
    ).one_or_none()
    if agenda is None:
        agenda = SessionAgenda(case_id=case.id, updated_by_id=actor.id)
        db.session.add(agenda)
    agenda.text = text.strip()
    agenda.updated_by_id = actor.id
    agenda.updated_at = utcnow()
    db.session.flush()
    return agenda
