"""Sessions, the family's check-ins and feedback, the therapist's answers and the alerts."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal import db
from portal.audit_trail import audited
from portal.cases.plain import require_plain_case
from portal.cases.queries import get_in_case, require_case
from portal.child.queries import case_for_child_screen
from portal.feedback import answered, attendance, bp, notes, services
from portal.feedback.alerts import group_by_cause
from portal.feedback.charts import line_chart
from portal.feedback.forms import (
    AgendaForm,
    AnswerForm,
    CheckinForm,
    ChildFeedbackForm,
    FamilyNoteForm,
    GuardianFeedbackForm,
    PredictionForm,
    ResolveAlertForm,
    SessionForm,
    SessionStatusForm,
)
from portal.feedback.queries import (
    alerts_of_case,
    checkins_of_case,
    feedback_of_case,
    get_alert_in,
    get_feedback_in,
    get_session_in,
    own_checkins,
    own_feedback,
)
from portal.ladders.services import LadderRuleError, do_cheer
from portal.models import Case, PracticeAttempt
from portal.models.case_rows import PlainCase
from portal.models.feedback import (
    NoteMood,
    Respondent,
    SessionFeedback,
    SessionMode,
    SessionStatus,
    TherapySession,
)
from portal.policies import today
from portal.security import child_mode_allowed
from portal.web.htmx import render, see_other

# --- therapist: sessions ---------------------------------------------------------------------


def _sessions_page(
    case: Case,
    form: SessionForm | None = None,
    status: int = 200,
    *,
    chosen: dict[str, str] | None = None,
    attendance_error: str | None = None,
) -> Response:
    sessions = services.sessions_of(case)
    return render(
        "feedback/sessions.html",
        case=case,
        sessions=sessions,
        latest_try=_latest_try(case),
        form=form or SessionForm(formdata=None),
        status_form=SessionStatusForm(formdata=None),
        people=attendance.people_of(case),
        chosen=chosen or {},
        chosen_of=attendance.chosen_of,
        attendance_error=attendance_error,
        status=status,
    )


@bp.get("/cases/<int:case_id>/sessions")
@audited("read", case="case_id")
def sessions(case_id: int) -> Response:
    return _sessions_page(require_case(case_id, "feedback.manage"))


def _local(case: Case, day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=services.clinic_zone(case)).astimezone(UTC)


@bp.post("/cases/<int:case_id>/sessions")
@audited("create", case="case_id")
def record_session(case_id: int) -> Response:
    case = require_case(case_id, "feedback.manage")
    form = SessionForm()
    people = attendance.people_of(case)
    chosen = attendance.chosen_from(request.form, people)
    present, problem = attendance.parse(chosen)
    if form.validate_on_submit() and form.day.data and form.time.data and problem is None:
        status = SessionStatus(form.status.data)
        if status is SessionStatus.HELD and not present:
            problem = _("Say who came: choose “in person” or “video” for at least one person.")
        else:
            try:
                services.do_record_session(
                    current_user,
                    case,
                    starts_at=_local(case, form.day.data, form.time.data),
                    mode=SessionMode(form.mode.data),
                    status=status,
                    attendees=form.attendees.data or "",
                    attendance=present if status is SessionStatus.HELD else {},
                )
                latest = _latest_try(case)
                if form.cheer_sticker.data and latest is not None:
                    do_cheer(
                        current_user,
                        latest,
                        sticker=form.cheer_sticker.data,
                        message=form.cheer_message.data or "",
                    )
                if form.next_day.data and form.next_time.data:
                    services.do_record_session(
                        current_user,
                        case,
                        starts_at=_local(case, form.next_day.data, form.next_time.data),
                        mode=SessionMode(form.mode.data),
                        status=SessionStatus.SCHEDULED,
                    )
            except (services.FeedbackRuleError, LadderRuleError) as exc:
                form.status.errors = [str(exc)]
            else:
                db.session.commit()  # commit point: the view's change
                flash(_saved_message(status, present), "success")
                return see_other("feedback.sessions", case_id=case.id)
    return _sessions_page(case, form, status=422, chosen=chosen, attendance_error=problem)


def _latest_try(case: Case) -> PracticeAttempt | None:
    """The child's latest practice: where a cheer sent with the session lands."""
    from sqlalchemy import select

    return db.session.scalars(
        select(PracticeAttempt)
        .where(PracticeAttempt.case_id == case.id)
        .order_by(PracticeAttempt.practiced_at.desc())
        .limit(1)
    ).first()


def _saved_message(status: SessionStatus, present: dict[str, SessionMode]) -> str:
    if status is not SessionStatus.HELD:
        return str(_("Session saved."))
    guardians = sum(1 for key in present if key.startswith("guardian:"))
    if not guardians:
        return str(_("Session saved. No guardian came, so no guardian is asked about it."))
    return str(
        ngettext(
            "Session saved. A check-in goes to the guardian who came.",
            "Session saved. A check-in goes to the %(num)d guardians who came.",
            guardians,
        )
    )


@bp.post("/cases/<int:case_id>/sessions/<int:session_id>/status")
@audited("update", therapy_session="session_id")
def set_session_status(case_id: int, session_id: int) -> Response:
    case = require_case(case_id, "feedback.manage")
    session = get_session_in(case.id, session_id)
    form = SessionStatusForm()
    if not form.validate_on_submit():
        abort(400)
    status = SessionStatus(form.status.data)
    present, problem = attendance.parse(
        attendance.chosen_from(request.form, attendance.people_of(case))
    )
    if problem is None and status is SessionStatus.HELD and not present:
        problem = _("Say who came: choose “in person” or “video” for at least one person.")
    if problem is not None:
        flash(problem, "error")
        return see_other("feedback.sessions", case_id=case.id)
    try:
        services.do_set_session_status(
            current_user,
            session,
            status,
            case=case,
            attendance=present if status is SessionStatus.HELD else {},
        )
    except services.FeedbackRuleError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()  # commit point: the view's change
        flash(_saved_message(status, present), "success")
    return see_other("feedback.sessions", case_id=case.id)


# --- therapist: feedback, trends, alerts -------------------------------------------------------


def _trend_charts(case: Case) -> list[Any]:
    feedback = feedback_of_case(case.id)
    overall: dict[str, list[tuple[Any, float]]] = {}
    for item in feedback:
        name = (
            item.guardian.display_name
            if item.guardian
            else _("%(name)s (child)", name=case.child.first_name)
        )
        overall.setdefault(name, []).append((item.session.starts_at.date(), item.overall))
    checkins = checkins_of_case(case.id)
    hard: dict[str, list[tuple[Any, float]]] = {}
    days: dict[str, list[tuple[Any, float]]] = {}
    for checkin in checkins:
        hard.setdefault(checkin.guardian.display_name, []).append(
            (checkin.week_start, checkin.difficulty)
        )
        days.setdefault(checkin.guardian.display_name, []).append(
            (checkin.week_start, checkin.practice_days)
        )
    return [
        line_chart(_("Session check-in: overall (0–10)"), overall, 10),
        line_chart(_("Weekly check-in: how hard the week was (0–10)"), hard, 10),
        line_chart(_("Weekly check-in: days with practice (0–7)"), days, 7),
    ]


@bp.get("/cases/<int:case_id>/feedback")
@audited("read", case="case_id")
def case_feedback(case_id: int) -> Response:
    case = require_case(case_id, "feedback.manage")
    feedback = feedback_of_case(case.id)
    family_notes = notes.notes_of_case(case.id)
    # Opening this page is reading what it shows: the family then sees "Read by …".
    if notes.do_mark_read(current_user, [*feedback, *family_notes]):
        db.session.commit()  # commit point: the recorded read
    alerts = alerts_of_case(case.id)
    return render(
        "feedback/case.html",
        case=case,
        feedback=list(reversed(feedback)),
        family_notes=family_notes,
        checkins=list(reversed(checkins_of_case(case.id))),
        alert_groups=group_by_cause([a for a in alerts if a.resolved_at is None]),
        resolved_alerts=[a for a in alerts if a.resolved_at is not None],
        charts=_trend_charts(case),
        answer_form=AnswerForm(formdata=None),
        resolve_form=ResolveAlertForm(formdata=None),
    )


@bp.post("/cases/<int:case_id>/feedback/<int:feedback_id>/answer")
@audited("create", feedback="feedback_id")
def answer_feedback(case_id: int, feedback_id: int) -> Response:
    case = require_case(case_id, "feedback.manage")
    feedback = get_feedback_in(case.id, feedback_id)
    form = AnswerForm()
    if form.validate_on_submit():
        services.do_answer_feedback(current_user, feedback, form.answer.data or "")
        db.session.commit()  # commit point: the view's change
        flash(_("Your answer is on the family's page."), "success")
    else:
        flash(_("Write your answer before sending."), "error")
    return redirect(
        url_for("feedback.case_feedback", case_id=case.id) + f"#feedback-{feedback.id}", 303
    )  # type: ignore[return-value]


@bp.post("/cases/<int:case_id>/alerts/<int:alert_id>/resolve")
@audited("update", alert="alert_id")
def resolve_alert(case_id: int, alert_id: int) -> Response:
    case = require_case(case_id, "feedback.manage")
    alert = get_alert_in(case.id, alert_id)
    form = ResolveAlertForm()
    if not form.validate_on_submit():
        abort(400)
    services.do_resolve_cause(current_user, alert, form.note.data or "")
    db.session.commit()  # commit point: the view's change
    flash(_("Alert resolved."), "success")
    back = request.form.get("back") == "caseload"
    if back:
        return see_other("cases.caseload")
    return see_other("feedback.case_feedback", case_id=case.id)


# --- therapist: before the session ---------------------------------------------------------------


def _before_page(case: PlainCase, form: AgendaForm | None = None, status: int = 200) -> Response:
    from portal.db import utcnow
    from portal.feedback.before_session import PageHelp, prepare

    prep = prepare(case, utcnow())
    if form is None:
        form = AgendaForm(formdata=None)
        form.text.data = prep.agenda or ""
    return render(
        "feedback/before_session.html",
        case=case,
        prep=prep,
        form=form,
        page=PageHelp(case.id),
        status=status,
    )


@bp.get("/cases/<int:case_id>/before-session")
@audited("read", case="case_id")
def before_session(case_id: int) -> Response:
    return _before_page(require_plain_case(case_id, "feedback.manage"))


@bp.post("/cases/<int:case_id>/before-session/agenda")
@audited("update", case="case_id")
def save_agenda(case_id: int) -> Response:
    from portal.feedback.before_session import do_save_agenda

    case = require_plain_case(case_id, "feedback.manage")
    form = AgendaForm()
    if not form.validate_on_submit():
        return _before_page(case, form, status=422)
    do_save_agenda(current_user, case, form.text.data or "")
    db.session.commit()  # commit point: the view's change
    flash(_("Agenda saved. Only the therapists on this case see it."), "success")
    return see_other("feedback.before_session", case_id=case.id)


@bp.post("/cases/<int:case_id>/before-session/predictions/<int:attempt_id>")
@audited("update", practice="attempt_id")
def judge_prediction(case_id: int, attempt_id: int) -> Response:
    """The therapist says whether the feared outcome of one practice entry happened."""
    from portal.feedback.before_session import PredictionError, do_judge_prediction

    case = require_case(case_id, "feedback.manage")
    attempt = get_in_case(PracticeAttempt, "practice", case.id, attempt_id)
    form = PredictionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        do_judge_prediction(current_user, attempt, form.verdict)
    except PredictionError:
        abort(400)
    db.session.commit()  # commit point: the view's change
    if form.verdict is False:
        flash(_("Marked: the feared outcome did not happen."), "success")
    elif form.verdict is True:
        flash(_("Marked: the feared outcome happened."), "success")
    else:
        flash(_("Marked as not read yet."), "success")
    return see_other("feedback.before_session", case_id=case.id, _anchor="prep-predictions")


# --- guardian ----------------------------------------------------------------------------------


def _checkins_page(
    case: Case, *, checkin_form: CheckinForm | None = None, status: int = 200
) -> Response:
    due_week = services.checkin_week_due()
    mine = own_checkins(case.id, current_user.id)
    sent = next((c for c in mine if c.week_start == due_week), None)
    form = checkin_form
    if form is None:
        # Answered stays answered: a sent check-in opens with its answers.
        form = CheckinForm(formdata=None, obj=sent) if sent else CheckinForm(formdata=None)
        form.idempotency_key.data = str(uuid.uuid4())
        form.week.data = due_week.isoformat()
    return render(
        "feedback/family.html",
        case=case,
        due_sessions=services.feedback_due(case, f"guardian:{current_user.id}"),
        next_session=services.next_session(case),
        checkin_done=sent is not None,
        checkin_sent=sent,
        checkin_editable=sent is not None and answered.editable(sent),
        checkin_edit_until=answered.edit_until(sent) if sent is not None else None,
        due_week=due_week,
        checkin_form=form,
        my_feedback=own_feedback(case.id, current_user.id),
        my_checkins=mine,
        status=status,
    )


@bp.get("/family/<int:case_id>/checkins")
@audited("read", case="case_id")
def family_checkins(case_id: int) -> Response:
    return _checkins_page(require_case(case_id, "feedback.give"))


@bp.post("/family/<int:case_id>/checkin")
@audited("create", case="case_id")
def submit_checkin(case_id: int) -> Response:
    case = require_case(case_id, "feedback.give")
    form = CheckinForm()
    if form.validate_on_submit():
        try:
            week = datetime.strptime(form.week.data or "", "%Y-%m-%d").date()
        except ValueError:
            abort(400)
        data = services.CheckinInput(
            week=week,
            practice_days=form.practice_days.data or 0,
            difficulty=form.difficulty.data or 0,
            accommodations=form.accommodations.data or "",
            reducing=form.reducing.data or "",
            observation=form.observation.data or "",
        )
        sent = next(
            (c for c in own_checkins(case.id, current_user.id) if c.week_start == week), None
        )
        if sent is not None and sent.idempotency_key != form.idempotency_key.data:
            try:
                answered.do_edit_checkin(current_user, sent, data)
            except services.FeedbackRuleError as exc:
                form.practice_days.errors = [str(exc)]
                return _checkins_page(case, checkin_form=form, status=422)
            db.session.commit()  # commit point: the view's change
            flash(_("Your changes are saved."), "success")
            return see_other("feedback.family_checkins", case_id=case.id)
        try:
            services.do_submit_checkin(
                current_user, case, data, idempotency_key=_key(form.idempotency_key.data)
            )
        except services.AlreadyAnswered:
            flash(_("You already sent the check-in for that week. Thank you!"), "success")
            return see_other("feedback.family_checkins", case_id=case.id)
        except services.FeedbackRuleError as exc:
            form.practice_days.errors = [str(exc)]
        else:
            db.session.commit()  # commit point: the view's change
            flash(_("Thank you! Your weekly check-in is saved."), "success")
            return see_other("feedback.family_checkins", case_id=case.id)
    return _checkins_page(case, checkin_form=form, status=422)


def _key(value: str | None) -> str:
    try:
        return str(uuid.UUID(value or ""))
    except ValueError:
        abort(400)


def _feedback_form_page(
    case: Case,
    session: TherapySession,
    form: Any,
    status: int = 200,
    sent: SessionFeedback | None = None,
) -> Response:
    return render(
        "feedback/give.html",
        case=case,
        session=session,
        form=form,
        status=status,
        band=case.child.age_band(today()),
        sent=sent,
        editable=sent is not None and answered.editable(sent),
        edit_until=answered.edit_until(sent) if sent is not None else None,
    )


def _edit_feedback(form: GuardianFeedbackForm, sent: SessionFeedback) -> bool:
    """Change an answer within its window; False (with the reason on the form) otherwise."""
    try:
        answered.do_edit_guardian_feedback(
            current_user,
            sent,
            heard=form.heard.data,
            matters=form.matters.data,
            approach=form.approach.data,
            overall=form.overall.data,
            comment=form.comment.data or "",
        )
    except services.FeedbackRuleError as exc:
        form.overall.errors = [str(exc)]
        return False
    return True


@bp.route("/family/<int:case_id>/sessions/<int:session_id>/feedback", methods=["GET", "POST"])
@audited("create", therapy_session="session_id")
def give_feedback(case_id: int, session_id: int) -> Response:
    case = require_case(case_id, "feedback.give")
    session = get_session_in(case.id, session_id)
    sent = answered.own_session_feedback(session, current_user)
    form = GuardianFeedbackForm()
    if request.method == "GET":
        if sent is not None:  # answered stays answered: the form opens with the answer
            form = GuardianFeedbackForm(formdata=None, obj=sent)
        form.idempotency_key.data = str(uuid.uuid4())
    elif sent is not None and form.validate_on_submit():
        if sent.idempotency_key == form.idempotency_key.data:
            return see_other("feedback.family_checkins", case_id=case.id)  # a double tap
        if _edit_feedback(form, sent):
            db.session.commit()  # commit point: the view's change
            flash(_("Your changes are saved."), "success")
            return see_other("feedback.family_checkins", case_id=case.id)
    elif form.validate_on_submit():
        try:
            services.do_submit_guardian_feedback(
                current_user,
                case,
                session,
                heard=form.heard.data,
                matters=form.matters.data,
                approach=form.approach.data,
                overall=form.overall.data,
                comment=form.comment.data or "",
                idempotency_key=_key(form.idempotency_key.data),
            )
        except services.AlreadyAnswered:
            flash(_("You already gave feedback on this session. Thank you!"), "success")
            return see_other("feedback.family_checkins", case_id=case.id)
        except services.FeedbackRuleError as exc:
            form.overall.errors = [str(exc)]
        else:
            db.session.commit()  # commit point: the view's change
            flash(_("Thank you! Your therapist will read your feedback."), "success")
            return see_other("feedback.family_checkins", case_id=case.id)
    status = 422 if request.method == "POST" else 200
    if session.status is not SessionStatus.HELD and request.method == "GET":
        abort(404)
    return _feedback_form_page(case, session, form, status, sent)


# --- child ---------------------------------------------------------------------------------------


@bp.route("/me/sessions/<int:session_id>/feedback", methods=["GET", "POST"])
@audited("create", therapy_session="session_id")
@child_mode_allowed
def child_feedback(session_id: int) -> Response:
    case = case_for_child_screen()
    session = get_session_in(case.id, session_id)
    form = ChildFeedbackForm()
    if request.method == "GET":
        if session.status is not SessionStatus.HELD:
            abort(404)
        form.idempotency_key.data = str(uuid.uuid4())
    elif form.validate_on_submit() and form.raw.data is not None:
        try:
            services.do_submit_child_feedback(
                current_user,
                case,
                session,
                raw=form.raw.data,
                comment=form.comment.data or "",
                idempotency_key=_key(form.idempotency_key.data),
            )
        except services.AlreadyAnswered:
            flash(_("You already told us about this session. Thank you!"), "success")
            return see_other("child.home")
        except services.FeedbackRuleError as exc:
            form.raw.errors = [str(exc)]
        else:
            db.session.commit()  # commit point: the view's change
            flash(_("Thank you for telling us!"), "success")
            return see_other("child.home")
    status = 422 if request.method == "POST" else 200
    return render(
        "feedback/child.html",
        case=case,
        child=case.child,
        session=session,
        form=form,
        band=case.child.age_band(today()),
        status=status,
        respondent=Respondent.CHILD,
    )


# --- "How is it going?": a note from a guardian, whenever they like -----------------------------


def _note_page(case: Case, form: FamilyNoteForm | None = None, status: int = 200) -> Response:
    if form is None:
        form = FamilyNoteForm(formdata=None)
        form.idempotency_key.data = str(uuid.uuid4())
    return render(
        "feedback/note.html",
        case=case,
        form=form,
        my_notes=notes.own_notes(case.id, current_user.id),
        status=status,
    )


@bp.route("/family/<int:case_id>/how-is-it-going", methods=["GET", "POST"])
@audited("create", case="case_id")
def family_note(case_id: int) -> Response:
    case = require_case(case_id, "feedback.give")
    if request.method != "POST":  # GET and HEAD
        return _note_page(case)
    form = FamilyNoteForm()
    if form.validate_on_submit():
        try:
            notes.do_send_note(
                current_user,
                case,
                mood=NoteMood(form.mood.data),
                text=form.text.data or "",
                idempotency_key=_key(form.idempotency_key.data),
            )
        except services.FeedbackRuleError as exc:
            form.text.errors = [str(exc)]
        else:
            db.session.commit()  # commit point: the view's change
            flash(_("Thank you! Your therapist will read it."), "success")
            return see_other("feedback.family_note", case_id=case.id)
    return _note_page(case, form, status=422)


@bp.post("/cases/<int:case_id>/notes/<int:note_id>/answer")
@audited("update", family_note="note_id")
def answer_note(case_id: int, note_id: int) -> Response:
    case = require_case(case_id, "feedback.manage")
    note = notes.get_note_in(case.id, note_id)
    form = AnswerForm()
    if form.validate_on_submit():
        notes.do_answer_note(current_user, note, form.answer.data or "")
        db.session.commit()  # commit point: the view's change
        flash(_("Your answer is on the family's page."), "success")
    else:
        flash(_("Write your answer before sending."), "error")
    return redirect(url_for("feedback.case_feedback", case_id=case.id) + f"#note-{note.id}", 303)  # type: ignore[return-value]


@bp.post("/cases/<int:case_id>/notes/<int:note_id>/resolve")
@audited("update", family_note="note_id")
def resolve_note(case_id: int, note_id: int) -> Response:
    case = require_case(case_id, "feedback.manage")
    note = notes.get_note_in(case.id, note_id)
    if not ResolveAlertForm().validate_on_submit():
        abort(400)
    notes.do_resolve_note(current_user, note)
    db.session.commit()  # commit point: the view's change
    flash(_("Marked as dealt with."), "success")
    return see_other("feedback.case_feedback", case_id=case.id)
