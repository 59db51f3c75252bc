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

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from portal import db
from portal.feedback.alerts import AlertGroup, group_by_cause
from portal.models import Case, User
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

DEFAULT_WINDOW_DAYS = 14  # when there was no held session yet
MOST_ATTEMPTS = 200


@dataclass
class StepTrend:
    ladder: Ladder
    step: LadderStep
    attempts: list[PracticeAttempt]

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
    ladder: Ladder
    tries: int
    expected: int


@dataclass
class CheckinChange:
    feedback: SessionFeedback
    previous: SessionFeedback | None

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.feedback.overall - self.previous.overall


@dataclass
class Prep:
    since: datetime
    last_session: TherapySession | None
    next_session: TherapySession | None
    practice: list[PracticeAgainstTarget] = field(default_factory=list)
    trends: list[StepTrend] = field(default_factory=list)
    mastered: list[LadderStep] = field(default_factory=list)
    predictions: list[PracticeAttempt] = field(default_factory=list)
    # The predictions split by the therapist's reading (PracticeAttempt.prediction_came_true).
    disproved: list[PracticeAttempt] = field(default_factory=list)
    to_read: list[PracticeAttempt] = field(default_factory=list)
    came_true: list[PracticeAttempt] = field(default_factory=list)
    guardian_checkins: list[CheckinChange] = field(default_factory=list)
    # Guardians who came to the last session and have not checked in about it (yet).
    checkins_waiting: list[User] = field(default_factory=list)
    child_rating: SessionFeedback | None = None
    weekly: list[WeeklyCheckin] = field(default_factory=list)
    messages: int = 0
    tasks: list[CaseTask] = field(default_factory=list)
    alerts: list[AlertGroup] = field(default_factory=list)
    review_due: date | None = None
    agenda: SessionAgenda | None = None


def _sessions(case: Case, now: datetime) -> tuple[TherapySession | None, TherapySession | None]:
    last = db.session.scalars(
        select(TherapySession)
        .where(
            TherapySession.case_id == case.id,
            TherapySession.status == SessionStatus.HELD,
            TherapySession.starts_at <= now,
        )
        .options(selectinload(TherapySession.attendance).joinedload(SessionAttendance.guardian))
        .order_by(TherapySession.starts_at.desc())
        .limit(1)
    ).first()
    upcoming = db.session.scalars(
        select(TherapySession)
        .where(
            TherapySession.case_id == case.id,
            TherapySession.status == SessionStatus.SCHEDULED,
            TherapySession.starts_at > now,
        )
        .order_by(TherapySession.starts_at)
        .limit(1)
    ).first()
    return last, upcoming


def _practice(prep: Prep, case: Case, now: datetime) -> None:
    ladders = list(
        db.session.scalars(
            select(Ladder)
            .where(Ladder.case_id == case.id, Ladder.retired_at.is_(None))
            .options(selectinload(Ladder.steps))
            .order_by(Ladder.id)
        )
    )
    attempts = list(
        db.session.scalars(
            select(PracticeAttempt)
            .where(PracticeAttempt.case_id == case.id, PracticeAttempt.practiced_at >= prep.since)
            .order_by(PracticeAttempt.practiced_at.desc())
            .limit(MOST_ATTEMPTS)
        )
    )
    attempts.reverse()  # oldest first, for trends
    weeks = max((now - prep.since).days, 1) / 7
    for ladder in ladders:
        step_ids = {step.id for step in ladder.steps}
        mine = [a for a in attempts if a.step_id in step_ids]
        prep.practice.append(
            PracticeAgainstTarget(ladder, len(mine), round(ladder.weekly_target * weeks))
        )
        current = next(
            (
                step
                for step in ladder.active_steps
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
            for step in ladder.active_steps
            if step.mastered_at is not None and step.mastered_at >= prep.since
        )
    prep.predictions = [a for a in attempts if a.prediction.strip() and a.outcome.strip()]
    prep.disproved = [a for a in prep.predictions if a.prediction_came_true is False]
    prep.to_read = [a for a in prep.predictions if a.prediction_came_true is None]
    prep.came_true = [a for a in prep.predictions if a.prediction_came_true is True]


def _checkins(prep: Prep, case: Case) -> None:
    if prep.last_session is None:
        return
    answers = list(
        db.session.scalars(
            select(SessionFeedback)
            .where(SessionFeedback.session_id == prep.last_session.id)
            .options(joinedload(SessionFeedback.guardian))
            .order_by(SessionFeedback.id)
        )
    )
    keys = [a.respondent_key for a in answers if a.respondent is Respondent.GUARDIAN]
    earlier: dict[str, SessionFeedback] = {}
    if keys:
        for answer in db.session.scalars(
            select(SessionFeedback)
            .where(
                SessionFeedback.case_id == case.id,
                SessionFeedback.respondent_key.in_(keys),
                SessionFeedback.session_id != prep.last_session.id,
                SessionFeedback.created_at < prep.last_session.starts_at,
            )
            .order_by(SessionFeedback.created_at.desc())
            .limit(10 * len(keys))
        ):
            earlier.setdefault(answer.respondent_key, answer)
    for answer in answers:
        if answer.respondent is Respondent.CHILD:
            prep.child_rating = answer
        elif prep.last_session.attended(answer.respondent_key):
            prep.guardian_checkins.append(CheckinChange(answer, earlier.get(answer.respondent_key)))
    answered = {answer.respondent_key for answer in answers}
    prep.checkins_waiting = [
        row.guardian
        for row in prep.last_session.attendance
        if row.guardian is not None and row.attendee_key not in answered
    ]


def _since_messages(case: Case, since: datetime) -> int:
    return int(
        db.session.scalar(
            select(func.count(Message.id))
            .join(MessageThread, Message.thread_id == MessageThread.id)
            .where(MessageThread.case_id == case.id, Message.created_at >= since)
        )
        or 0
    )


def prepare(case: Case, now: datetime) -> Prep:
    last, upcoming = _sessions(case, now)
    since = last.starts_at if last else now - timedelta(days=DEFAULT_WINDOW_DAYS)
    prep = Prep(since=since, last_session=last, next_session=upcoming)
    _practice(prep, case, now)
    _checkins(prep, case)
    prep.weekly = list(
        db.session.scalars(
            select(WeeklyCheckin)
            .where(WeeklyCheckin.case_id == case.id, WeeklyCheckin.created_at >= since)
            .options(selectinload(WeeklyCheckin.guardian))
            .order_by(WeeklyCheckin.week_start, WeeklyCheckin.id)
            .limit(20)
        )
    )
    prep.messages = _since_messages(case, since)
    prep.tasks = list(
        db.session.scalars(
            select(CaseTask)
            .where(CaseTask.case_id == case.id, CaseTask.resolved_at.is_(None))
            .order_by(CaseTask.created_at)
        )
    )
    prep.alerts = group_by_cause(
        list(
            db.session.scalars(
                select(CareAlert).where(
                    CareAlert.case_id == case.id, CareAlert.resolved_at.is_(None)
                )
            )
        )
    )
    prep.review_due = db.session.scalar(
        select(PlanVersion.review_due_on).where(
            PlanVersion.case_id == case.id, PlanVersion.status == PlanStatus.ACTIVE
        )
    )
    prep.agenda = db.session.scalars(
        select(SessionAgenda).where(SessionAgenda.case_id == case.id)
    ).one_or_none()
    return prep


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


def do_save_agenda(actor: User, case: Case, text: str) -> SessionAgenda:
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
