"""Sessions, feedback, weekly check-ins and the alert rules.

Each `do_*` takes the actor explicitly and flushes; the view commits. Alert rules, with their
thresholds (DESIGN §5):
- a rating in the bottom third (0-3 on 0-10, the lowest face on 3 or 5 faces);
- a drop of 2 or more points on any item from the same person's previous check-in;
- no practice logged for 7 days;
- goal progress flat across 3 ratings from the same person (within 1 point, not rising);
- a weekly check-in overdue (the past week's was not sent by its following Wednesday).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, func, select

from portal import db
from portal.db import utcnow
from portal.i18n import DEFAULT_TIMEZONE, language_of
from portal.labels import label
from portal.models import AgeBand, Case, CaseStatus, Clinic, OutboxEmail, User
from portal.models.case_rows import AnyCase
from portal.models.feedback import (
    AlertKind,
    CareAlert,
    ChildScale,
    FamilyNote,
    Respondent,
    SessionAttendance,
    SessionFeedback,
    SessionMode,
    SessionStatus,
    TherapySession,
    WeeklyCheckin,
)
from portal.models.ladders import PracticeAttempt
from portal.models.plans import GoalProgress
from portal.ops.outbox import queue_email
from portal.policies import today
from portal.stored_words import N_, Words, day, stored, word, word_list

LOW_MAX = 3  # bottom third of 0-10
DROP_POINTS = 2
NO_PRACTICE_DAYS = 7
FEEDBACK_WINDOW_DAYS = 14
# How an alert names each question (msgids: said in the reader's language when the alert is read).
ITEM_WORDS = {
    "heard": N_("feeling heard"),
    "matters": N_("working on what matters"),
    "approach": N_("the approach"),
    "overall": N_("overall"),
}
# Whose goal progress was flat, by Informant value.
RATER_WORDS = {"child": N_("child"), "guardian": N_("guardian"), "therapist": N_("therapist")}
# The child's faces, stored as given and as 0-10 so alerts read every age band alike.
CHILD_SCALES: dict[ChildScale, dict[int, int]] = {
    ChildScale.FACES_3: {1: 0, 2: 5, 3: 10},
    ChildScale.FACES_5: {1: 0, 2: 3, 3: 5, 4: 8, 5: 10},
    ChildScale.ZERO_TEN: {value: value for value in range(11)},
}
SCALE_FOR_BAND = {
    AgeBand.YOUNG: ChildScale.FACES_3,
    AgeBand.CHILD: ChildScale.FACES_5,
    AgeBand.TEEN: ChildScale.ZERO_TEN,
}


class FeedbackRuleError(ValueError):
    """The rules refuse this; the message is shown to the person as it is."""


class AlreadyAnswered(Exception):
    """The same person already answered for this session or week."""


# --- sessions --------------------------------------------------------------------------------


def clinic_zone(case: Case) -> ZoneInfo:
    """The time zone of the case's clinic: sessions are booked, reminded and counted in it."""
    clinic = db.session.get(Clinic, case.clinic_id)  # in the identity map once loaded
    return ZoneInfo(clinic.timezone if clinic is not None else DEFAULT_TIMEZONE)


def guardian_key(guardian_id: int) -> str:
    return f"guardian:{guardian_id}"


def child_key(case: Case) -> str:
    return f"child:{case.child_id}"


def do_record_session(
    actor: User,
    case: Case,
    *,
    starts_at: datetime,
    mode: SessionMode,
    status: SessionStatus,
    attendees: str = "",
    attendance: dict[str, SessionMode] | None = None,
) -> TherapySession:
    """Record a session. `attendance` maps who of the care team came (a guardian or child key)
    to how they joined; `attendees` names anyone else in words."""
    if status is SessionStatus.HELD and starts_at > utcnow():
        raise FeedbackRuleError(_("A session in the future cannot have been held yet."))
    session = TherapySession(
        case_id=case.id,
        starts_at=starts_at,
        mode=mode,
        status=status,
        attendees=attendees.strip(),
        recorded_by_id=actor.id,
    )
    db.session.add(session)
    db.session.flush()
    _set_attendance(actor, case, session, attendance or {})
    return session


def _set_attendance(
    actor: User, case: Case, session: TherapySession, attendance: dict[str, SessionMode]
) -> None:
    """Only the case's own guardians (linked on the day of the session) and its child can be
    recorded as attending."""
    allowed = {guardian_key(link.guardian_id): link for link in case.guardian_links}
    for key in attendance:
        if key == child_key(case):
            continue
        link = allowed.get(key)
        if link is None:
            raise FeedbackRuleError(_("Only members of this care team can be recorded as there."))
        if link.valid_from > session.starts_at:
            raise FeedbackRuleError(
                _(
                    "%(name)s joined the care team after this session.",
                    name=link.guardian.display_name,
                )
            )
    for row in list(session.attendance):
        if row.attendee_key not in attendance:
            session.attendance.remove(row)
        else:
            row.mode = attendance[row.attendee_key]
    present = {row.attendee_key for row in session.attendance}
    for key, how in attendance.items():
        if key not in present:
            link = allowed.get(key)
            session.attendance.append(
                SessionAttendance(
                    attendee_key=key,
                    guardian_id=link.guardian_id if link else None,
                    mode=how,
                    recorded_by_id=actor.id,
                )
            )
    db.session.flush()


def do_set_session_status(
    actor: User,
    session: TherapySession,
    status: SessionStatus,
    *,
    case: Case | None = None,
    attendance: dict[str, SessionMode] | None = None,
) -> None:
    if status is SessionStatus.HELD and session.starts_at > utcnow():
        raise FeedbackRuleError(_("A session in the future cannot have been held yet."))
    if session.feedback and status is not SessionStatus.HELD:
        raise FeedbackRuleError(_("The family already gave feedback on this session."))
    session.status = status
    db.session.flush()
    if case is not None and attendance is not None:
        _set_attendance(actor, case, session, attendance)


def sessions_of(case: Case) -> list[TherapySession]:
    return list(
        db.session.scalars(
            select(TherapySession)
            .where(TherapySession.case_id == case.id)
            .order_by(TherapySession.starts_at.desc())
        )
    )


def next_session(case: AnyCase) -> TherapySession | None:
    return db.session.scalars(
        _next_session_statement(TherapySession), {"case_id": case.id, "now": utcnow()}
    ).first()


def next_session_start(case: AnyCase) -> datetime | None:
    """When `next_session` starts, read as one column (issue 17: the family page shows no more
    of it)."""
    values = {"case_id": case.id, "now": utcnow()}
    return db.read_columns(_next_session_statement(TherapySession.starts_at), values).scalar()


@cache
def _next_session_statement(what: Any) -> Select[Any]:
    """The next session (`what`: the entity, or a column of it), built once, on first use (issue
    17: the family page builds it on every visit)."""
    return (
        select(what)
        .where(
            TherapySession.case_id == bindparam("case_id"),
            TherapySession.status == SessionStatus.SCHEDULED,
            TherapySession.starts_at > bindparam("now"),
        )
        .order_by(TherapySession.starts_at)
        .limit(1)
    )


def feedback_due(case: Case, respondent_key: str) -> list[TherapySession]:
    """Held sessions of the last two weeks this person attended and has not answered yet, newest
    first. A guardian is never asked about a session from before they joined the care team."""
    answered = select(SessionFeedback.session_id).where(
        SessionFeedback.case_id == case.id, SessionFeedback.respondent_key == respondent_key
    )
    attended = select(SessionAttendance.session_id).where(
        SessionAttendance.attendee_key == respondent_key
    )
    joined = _joined_at(case, respondent_key)
    return list(
        db.session.scalars(
            select(TherapySession)
            .where(
                TherapySession.case_id == case.id,
                TherapySession.status == SessionStatus.HELD,
                TherapySession.starts_at >= utcnow() - timedelta(days=FEEDBACK_WINDOW_DAYS),
                TherapySession.id.not_in(answered),
                TherapySession.id.in_(attended),
                *([TherapySession.starts_at >= joined] if joined is not None else []),
            )
            .order_by(TherapySession.starts_at.desc())
        )
    )


def _joined_at(case: Case, respondent_key: str) -> datetime | None:
    """When a guardian joined this care team (their current link); None for the child."""
    for link in case.guardian_links:
        if guardian_key(link.guardian_id) == respondent_key and link.valid_to is None:
            return link.valid_from
    return None


# --- feedback --------------------------------------------------------------------------------


def _check_session(case: Case, session: TherapySession, respondent_key: str) -> None:
    if session.case_id != case.id:
        raise FeedbackRuleError(_("That session is not part of this case."))
    if session.status is not SessionStatus.HELD:
        raise FeedbackRuleError(
            _(
                "Feedback is for a session that took place. This one is marked %(status)s.",
                status=label(session.status).lower(),
            )
        )
    joined = _joined_at(case, respondent_key)
    if not session.attended(respondent_key) or (joined is not None and joined > session.starts_at):
        raise FeedbackRuleError(
            _("You were not recorded at this session, so there is nothing to answer about it.")
        )


def _existing(model: type[SessionFeedback] | type[WeeklyCheckin], key: str) -> object | None:
    return db.session.scalars(select(model).where(model.idempotency_key == key)).one_or_none()


def do_submit_guardian_feedback(
    actor: User,
    case: Case,
    session: TherapySession,
    *,
    heard: int,
    matters: int,
    approach: int,
    overall: int,
    comment: str,
    idempotency_key: str,
) -> SessionFeedback:
    if (seen := _existing(SessionFeedback, idempotency_key)) is not None:
        assert isinstance(seen, SessionFeedback)
        return seen  # a double submit stores nothing twice
    key = guardian_key(actor.id)
    _check_session(case, session, key)
    values = {"heard": heard, "matters": matters, "approach": approach, "overall": overall}
    if any(not 0 <= value <= 10 for value in values.values()):
        raise FeedbackRuleError(_("Each answer is a number from 0 to 10."))
    return _store_feedback(
        session,
        case,
        key,
        respondent=Respondent.GUARDIAN,
        guardian_id=actor.id,
        entered_by_id=actor.id,
        comment=comment.strip(),
        idempotency_key=idempotency_key,
        **values,
    )


def do_submit_child_feedback(
    actor: User,
    case: Case,
    session: TherapySession,
    *,
    raw: int,
    comment: str,
    idempotency_key: str,
) -> SessionFeedback:
    """The child's own check-in: faces for younger children, 0-10 for teens."""
    if (seen := _existing(SessionFeedback, idempotency_key)) is not None:
        assert isinstance(seen, SessionFeedback)
        return seen
    key = child_key(case)
    _check_session(case, session, key)
    scale = SCALE_FOR_BAND[case.child.age_band(today())]
    if raw not in CHILD_SCALES[scale]:
        raise FeedbackRuleError(
            "Choose one of the faces."
            if scale is not ChildScale.ZERO_TEN
            else "Choose a number from 0 to 10."
        )
    return _store_feedback(
        session,
        case,
        key,
        respondent=Respondent.CHILD,
        entered_by_id=actor.id,
        on_behalf_of_child=not actor.is_child,
        overall=CHILD_SCALES[scale][raw],
        child_scale=scale,
        child_raw=raw,
        comment=comment.strip(),
        idempotency_key=idempotency_key,
    )


def _store_feedback(
    session: TherapySession, case: Case, key: str, **fields: Any
) -> SessionFeedback:
    """One respondent's answers about one session: refused when this respondent (`key`) already
    answered it, else stored and checked for what the therapist must hear about (low scores)."""
    _refuse_second_answer(session, key)
    feedback = SessionFeedback(session_id=session.id, case_id=case.id, respondent_key=key, **fields)
    db.session.add(feedback)
    db.session.flush()
    check_feedback_alerts(feedback)
    return feedback


def _refuse_second_answer(session: TherapySession, key: str) -> None:
    already = db.session.scalars(
        select(SessionFeedback.id).where(
            SessionFeedback.session_id == session.id, SessionFeedback.respondent_key == key
        )
    ).first()
    if already is not None:
        raise AlreadyAnswered()


def put_answer(actor: User, written: SessionFeedback | FamilyNote, text: str) -> str:
    """The therapist's answer to what a family wrote (session feedback, a "How is it going?"
    note): it must say something; who answered and when are kept with it."""
    text = text.strip()
    if not text:
        raise FeedbackRuleError(_("Write your answer to the family."))
    written.answer = text
    written.answered_by_id = actor.id
    written.answered_at = utcnow()
    return text


def do_answer_feedback(actor: User, feedback: SessionFeedback, text: str) -> None:
    """ "You said, we did": the guardian who wrote the feedback sees this answer."""
    text = put_answer(actor, feedback, text)
    db.session.flush()
    resolve_alerts_caused_by(actor, f"feedback:{feedback.id}", text)


def resolve_alerts_caused_by(actor: User, evidence: str, note: str) -> int:
    """Answering what raised an alert resolves it, with the answer as the note."""
    alerts = db.session.scalars(
        select(CareAlert).where(CareAlert.evidence == evidence, CareAlert.resolved_at.is_(None))
    ).all()
    for alert in alerts:
        do_resolve_alert(actor, alert, note)
    return len(alerts)


# --- weekly check-ins ------------------------------------------------------------------------


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def checkin_week_due(now: datetime | None = None) -> date:
    """The week a check-in is asked about: the week that ended last Sunday."""
    return week_start((now or utcnow()).date()) - timedelta(days=7)


@dataclass
class CheckinInput:
    week: date
    practice_days: int
    difficulty: int
    accommodations: str
    reducing: str
    observation: str


def do_submit_checkin(
    actor: User, case: Case, data: CheckinInput, *, idempotency_key: str
) -> WeeklyCheckin:
    if (seen := _existing(WeeklyCheckin, idempotency_key)) is not None:
        assert isinstance(seen, WeeklyCheckin)
        return seen
    if not 0 <= data.practice_days <= 7:
        raise FeedbackRuleError(_("Days of practice is a number from 0 to 7."))
    if not 0 <= data.difficulty <= 10:
        raise FeedbackRuleError(_("How hard it was is a number from 0 to 10."))
    if week_start(data.week) != data.week or data.week > week_start(utcnow().date()):
        raise FeedbackRuleError(_("Choose a week that has started."))
    already = db.session.scalars(
        select(WeeklyCheckin.id).where(
            WeeklyCheckin.case_id == case.id,
            WeeklyCheckin.guardian_id == actor.id,
            WeeklyCheckin.week_start == data.week,
        )
    ).first()
    if already is not None:
        raise AlreadyAnswered()
    checkin = WeeklyCheckin(
        case_id=case.id,
        guardian_id=actor.id,
        week_start=data.week,
        practice_days=data.practice_days,
        difficulty=data.difficulty,
        accommodations=data.accommodations.strip(),
        reducing=data.reducing.strip(),
        observation=data.observation.strip(),
        idempotency_key=idempotency_key,
    )
    db.session.add(checkin)
    db.session.flush()
    return checkin


# --- alerts ----------------------------------------------------------------------------------


def raise_alert(
    case_id: int, kind: AlertKind, summary: Words, evidence: str, dedupe_key: str
) -> None:
    """An alert, once per dedupe key. Its summary is stored words, said in the language of the
    therapist who reads it (portal/stored_words.py); `summary` keeps the English of the time."""
    exists = db.session.scalars(
        select(CareAlert.id).where(CareAlert.dedupe_key == dedupe_key)
    ).first()
    if exists is None:
        db.session.add(
            CareAlert(
                case_id=case_id,
                kind=kind,
                summary_words=summary,
                summary=summary.english()[:300],
                evidence=evidence,
                dedupe_key=dedupe_key,
            )
        )
        db.session.flush()


def _who(feedback: SessionFeedback) -> str | dict[str, str]:
    """The person's name, as typed; the catalogue's words when there is none."""
    if feedback.respondent is Respondent.CHILD:
        case = db.session.get(Case, feedback.case_id)
        return case.child.first_name if case else word(N_("The child"))
    return feedback.guardian.display_name if feedback.guardian else word(N_("A guardian"))


def _attended_sessions(respondent_key: str) -> Any:
    return select(SessionAttendance.session_id).where(
        SessionAttendance.attendee_key == respondent_key
    )


def check_feedback_alerts(feedback: SessionFeedback) -> None:
    """Only answers from people who were at the session count (an absent parent's view of a
    session they did not see is no sign of a rupture)."""
    if not feedback.session.attended(feedback.respondent_key):
        return
    who = _who(feedback)
    low = [name for name, value in feedback.items().items() if value <= LOW_MAX]
    if low:
        raise_alert(
            feedback.case_id,
            AlertKind.LOW_RATING,
            stored(
                N_("%(who)s rated low: %(items)s"),
                who=who,
                items=word_list(ITEM_WORDS[name] for name in low),
            ),
            f"feedback:{feedback.id}",
            f"low:feedback:{feedback.id}",
        )
    previous = db.session.scalars(
        select(SessionFeedback)
        .where(
            SessionFeedback.case_id == feedback.case_id,
            SessionFeedback.respondent_key == feedback.respondent_key,
            SessionFeedback.id != feedback.id,
            SessionFeedback.created_at <= feedback.created_at,
            SessionFeedback.session_id.in_(_attended_sessions(feedback.respondent_key)),
        )
        .order_by(SessionFeedback.created_at.desc(), SessionFeedback.id.desc())
    ).first()
    if previous is None:
        return
    before = previous.items()
    drops = {
        name: before[name] - value
        for name, value in feedback.items().items()
        if name in before and before[name] - value >= DROP_POINTS
    }
    if drops:
        name, points = max(drops.items(), key=lambda item: item[1])
        raise_alert(
            feedback.case_id,
            AlertKind.RATING_DROP,
            stored(
                N_("%(who)s's rating of %(item)s dropped %(points)s points since last time"),
                who=who,
                item=word(ITEM_WORDS[name]),
                points=points,
            ),
            f"feedback:{feedback.id}",
            f"drop:feedback:{feedback.id}",
        )


def check_progress_alert(rating: GoalProgress) -> None:
    """Called when a goal progress rating is saved: three in a row within a point, not rising."""
    recent = list(
        db.session.scalars(
            select(GoalProgress)
            .where(
                GoalProgress.case_id == rating.case_id,
                GoalProgress.lineage_key == rating.lineage_key,
                GoalProgress.rater_role == rating.rater_role,
                GoalProgress.rater_id.is_(None)
                if rating.rater_id is None
                else GoalProgress.rater_id == rating.rater_id,
            )
            .order_by(GoalProgress.rated_at.desc(), GoalProgress.id.desc())
            .limit(3)
        )
    )
    if len(recent) < 3:
        return
    values = [r.value for r in recent]
    newest, oldest = values[0], values[-1]
    if max(values) - min(values) <= 1 and newest <= oldest:
        raise_alert(
            rating.case_id,
            AlertKind.FLAT_PROGRESS,
            stored(
                N_(
                    "Goal progress from the %(rater)s has been flat at about %(value)s/10 for "
                    "three ratings"
                ),
                rater=word(RATER_WORDS[rating.rater_role.value]),
                value=newest,
            ),
            f"goal:{rating.lineage_key}",
            f"flat:{rating.lineage_key}:{recent[0].id}",
        )


def _last_practice(case: Case) -> datetime | None:
    """When the child last practised; None when no practice was ever logged (no ladder yet)."""
    last: datetime | None = db.session.scalar(
        select(func.max(PracticeAttempt.practiced_at)).where(PracticeAttempt.case_id == case.id)
    )
    return last


def scan_case(case: Case, now: datetime) -> None:
    """Time-based rules, run by `flask --app wsgi care-scan` (hourly or daily)."""
    if case.status is not CaseStatus.ACTIVE:
        return
    last = _last_practice(case)
    if last is not None and now - last >= timedelta(days=NO_PRACTICE_DAYS):
        raise_alert(
            case.id,
            AlertKind.NO_PRACTICE,
            stored(N_("No practice logged since %(day)s"), day=day(last)),
            f"case:{case.id}",
            f"nopractice:{case.id}:{last.isoformat()}",
        )
    due_week = checkin_week_due(now)
    if now.date() < due_week + timedelta(days=9):  # answers are open until Wednesday
        return
    for link in case.guardian_links:
        if not link.is_current(now) or link.valid_from.date() > due_week:
            continue
        sent = db.session.scalars(
            select(WeeklyCheckin.id).where(
                WeeklyCheckin.case_id == case.id,
                WeeklyCheckin.guardian_id == link.guardian_id,
                WeeklyCheckin.week_start == due_week,
            )
        ).first()
        if sent is None:
            raise_alert(
                case.id,
                AlertKind.CHECKIN_OVERDUE,
                stored(
                    N_("%(who)s's check-in for the week of %(day)s has not come in"),
                    who=link.guardian.display_name,
                    day=day(due_week),
                ),
                f"case:{case.id}",
                f"checkin:{case.id}:{link.guardian_id}:{due_week.isoformat()}",
            )


def queue_reminders(case: Case, now: datetime) -> int:
    """Reminders for due feedback and check-ins. No clinical content leaves the portal (HP-04)."""
    base = current_app.config["PORTAL_BASE_URL"].rstrip("/")
    queued = 0
    due_week = checkin_week_due(now)
    for link in case.guardian_links:
        if not link.is_current(now):
            continue
        guardian = link.guardian
        reasons = []
        due = feedback_due(case, f"guardian:{guardian.id}")
        if due:
            reasons.append(f"session:{due[0].id}")
        has_checkin = db.session.scalars(
            select(WeeklyCheckin.id).where(
                WeeklyCheckin.case_id == case.id,
                WeeklyCheckin.guardian_id == guardian.id,
                WeeklyCheckin.week_start == due_week,
            )
        ).first()
        if has_checkin is None and link.valid_from.date() <= due_week:
            reasons.append(f"week:{due_week.isoformat()}")
        for reason in reasons:
            key = f"reminder:{case.id}:{guardian.id}:{reason}"
            queued_before = db.session.scalars(
                select(OutboxEmail.id).where(OutboxEmail.dedupe_key == key)
            ).first()
            if queued_before is not None:
                continue
            sign_in_link = f"{base}/login"
            with language_of(guardian):
                queue_email(
                    to=guardian.email or "",
                    subject=_("A short check-in is waiting in Rapport"),
                    body=_(
                        "A short check-in is waiting for you in Rapport. "
                        "It takes about a minute.\n\n%(link)s",
                        link=sign_in_link,
                    ),
                    dedupe_key=key,
                )
            queued += 1
    return queued


def do_resolve_alert(actor: User, alert: CareAlert, note: str) -> None:
    if alert.resolved_at is None:
        alert.resolved_at = utcnow()
        alert.resolved_by_id = actor.id
        alert.resolution_note = note.strip()
        db.session.flush()


def do_resolve_cause(actor: User, alert: CareAlert, note: str) -> None:
    """Resolve an alert and the others its cause raised (the same feedback answer)."""
    do_resolve_alert(actor, alert, note)
    if alert.evidence.startswith("feedback:"):
        resolve_alerts_caused_by(actor, alert.evidence, note)


def scan_all(now: datetime | None = None) -> tuple[int, int]:
    """Run the time-based alert rules and queue reminders for every active case."""
    now = now or utcnow()
    before = db.session.scalar(select(func.count()).select_from(CareAlert)) or 0
    reminders = 0
    for case in db.session.scalars(select(Case).where(Case.status == CaseStatus.ACTIVE)):
        scan_case(case, now)
        reminders += queue_reminders(case, now)
    after = db.session.scalar(select(func.count()).select_from(CareAlert)) or 0
    return after - before, reminders
