"""The plan as the family sees it: versions, what changed, acceptance, assent and progress."""

from __future__ import annotations

from flask import Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import db
from portal.audit_trail import audited
from portal.cases.queries import get_case_for, reached, require_case
from portal.child.queries import case_for_child_screen
from portal.i18n import lazy_gettext as _l
from portal.models import AgeBand, Case
from portal.models.plans import (
    AssentChoice,
    Informant,
    PlanResponse,
    PlanStatus,
    PlanVersion,
    ResponseKind,
)
from portal.plans import bp, services
from portal.plans.changes import describe_changes
from portal.plans.forms import AssentForm, CommentForm, GuardianResponseForm, ProgressForm
from portal.plans.queries import (
    get_plan_for,
    get_plan_text_for,
    load_content,
    previous_active_text,
    progress_by_goal,
    reached_case,
)
from portal.policies import guardian_link_of, may, require, today
from portal.security import child_mode_allowed
from portal.session_state import in_child_mode
from portal.web.htmx import render

THANKS = {
    ResponseKind.ACCEPT: _l("Thank you. Your acceptance is recorded."),
    ResponseKind.ACCEPT_WITH_COMMENT: _l("Thank you. Your acceptance and comment are recorded."),
    ResponseKind.REQUEST_CHANGES: _l(
        "Thank you. The therapist will contact you about the changes."
    ),
}


def _case_of(plan: PlanVersion) -> Case:
    return get_case_for(current_user, plan.case_id)


@bp.get("/plans/<int:plan_id>")
@audited("read", plan="plan_id")
def version(plan_id: int) -> Response:
    plan = get_plan_for(current_user, plan_id)
    case = _case_of(plan)
    if current_user.is_child:
        return redirect(url_for("plans.child_plan"))  # type: ignore[return-value]
    return render(
        "plans/version.html",
        plan=plan,
        case=case,
        activation=services.activation_status(plan),
        response_form=_answer_form(plan),
        assent_form=AssentForm(formdata=None),
    )


def _answer_form(plan: PlanVersion) -> GuardianResponseForm:
    """Answered stays answered (issue 13): the form opens with this person's latest answer and
    its comment, so answering again starts from what they said, never from a blank form."""
    mine = [
        response
        for response in plan.responses
        if response.responder_id == current_user.id and response.kind is not ResponseKind.ASSENT
    ]
    if not mine:
        return GuardianResponseForm(formdata=None)
    latest = max(mine, key=lambda response: response.id)
    return GuardianResponseForm(
        formdata=None, data={"kind": latest.kind.value, "comment": latest.comment}
    )


@bp.get("/plans/<int:plan_id>/changes")
@audited("read", plan="plan_id")
def changes(plan_id: int) -> Response:
    plan, case = get_plan_text_for(current_user, plan_id)
    require("plan.read_full")
    reached_case(case)
    previous = previous_active_text(case, plan)
    load_content(plan, previous)
    return render(
        "plans/changes.html",
        plan=plan,
        case=case,
        previous=previous,
        changes=describe_changes(previous, plan),
    )


@bp.get("/plans/<int:plan_id>/print")
@audited("print", plan="plan_id")
def printable(plan_id: int) -> Response:
    plan = get_plan_for(current_user, plan_id)
    require("plan.read_full")
    case = _case_of(plan)
    return render(
        "plans/print.html", plan=plan, case=case, problems=services.ordered_problems(case)
    )


@bp.post("/plans/<int:plan_id>/respond")
@audited("create", plan="plan_id")
def respond(plan_id: int) -> Response:
    plan = get_plan_for(current_user, plan_id)
    case = _case_of(plan)
    require("plan.respond", case)
    form = GuardianResponseForm()
    if form.validate_on_submit():
        try:
            services.do_guardian_response(
                current_user,
                plan,
                case,
                kind=ResponseKind(form.kind.data),
                comment=form.comment.data or "",
            )
        except services.PlanRuleError as exc:
            form.comment.errors = [str(exc)]
        else:
            db.session.commit()  # commit point: the view's change
            message = THANKS[ResponseKind(form.kind.data)]
            if plan.status is PlanStatus.ACTIVE:
                message += _(" Version %(number)s is now the active plan.", number=plan.number)
            flash(message, "success")
            return redirect(url_for("plans.family_plan", case_id=case.id), 303)  # type: ignore[return-value]
    return render(
        "plans/version.html",
        plan=plan,
        case=case,
        activation=services.activation_status(plan),
        response_form=form,
        assent_form=AssentForm(formdata=None),
        status=422,
    )


@bp.post("/plans/<int:plan_id>/assent")
@audited("create", plan="plan_id")
@child_mode_allowed
def assent(plan_id: int) -> Response:
    """The child's assent: from the child, or recorded by a guardian for a young child."""
    plan = get_plan_for(current_user, plan_id)
    case = _case_of(plan)
    require("plan.assent", case)
    form = AssentForm()
    if not form.validate_on_submit():
        flash(_("Choose one of the answers."), "error")
    else:
        try:
            services.do_record_assent(
                current_user,
                plan,
                case,
                choice=AssentChoice(form.choice.data),
                comment=form.comment.data or "",
            )
        except services.PlanRuleError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()  # commit point: the view's change
            flash(_("Thank you! Your answer is saved."), "success")
    if current_user.is_child or in_child_mode():
        return redirect(url_for("plans.child_plan"), 303)  # type: ignore[return-value]
    return redirect(url_for("plans.family_plan", case_id=case.id), 303)  # type: ignore[return-value]


@bp.post("/plans/<int:plan_id>/goals/<int:goal_id>/progress")
@audited("create", goal="goal_id")
@child_mode_allowed
def rate_goal(plan_id: int, goal_id: int) -> Response:
    plan = get_plan_for(current_user, plan_id)
    case = _case_of(plan)
    require("goal.rate", case)
    rateable = plan.goals if plan.status is PlanStatus.ACTIVE else []  # only the plan in force
    goal = reached(next((g for g in rateable if g.id == goal_id), None), "goal", case.id)
    form = ProgressForm()
    if form.validate_on_submit() and form.value.data is not None:
        if current_user.is_therapist:
            role = Informant.THERAPIST
        elif current_user.is_guardian and not in_child_mode():
            role = Informant.GUARDIAN
        else:
            role = Informant.CHILD
        services.do_rate_goal(current_user, case, goal, value=form.value.data, rater_role=role)
        db.session.commit()  # commit point: the view's change
        flash(_("Thanks! Your rating is saved."), "success")
    else:
        flash(_("Choose a number from 0 to 10."), "error")
    if current_user.is_child or in_child_mode():
        return redirect(url_for("plans.child_plan"), 303)  # type: ignore[return-value]
    if current_user.is_therapist:
        return redirect(url_for("plans.plan_hub", case_id=case.id), 303)  # type: ignore[return-value]
    return redirect(url_for("plans.family_plan", case_id=case.id), 303)  # type: ignore[return-value]


def _family_page(
    case: Case,
    *,
    comment_form: CommentForm | None = None,
    review_form: CommentForm | None = None,
    status: int = 200,
) -> Response:
    proposed = _proposed(case)
    return render(
        "plans/family.html",
        case=case,
        link=guardian_link_of(current_user, case),
        active=services.active_version(case),
        proposed=proposed,
        my_answer=_my_answer(proposed),
        may_answer=may("plan.respond", case),
        problems=services.ordered_problems(case),
        progress=progress_by_goal(case.id),
        progress_form=ProgressForm(formdata=None),
        comment_form=comment_form or CommentForm(formdata=None),
        review_form=review_form or CommentForm(formdata=None, prefix="review"),
        status=status,
    )


def _my_answer(plan: PlanVersion | None) -> PlanResponse | None:
    """This guardian's latest answer to the proposed version (a recorded fact, or None)."""
    if plan is None:
        return None
    mine = [
        r
        for r in plan.responses
        if r.responder_id == current_user.id and r.kind is not ResponseKind.ASSENT
    ]
    return mine[-1] if mine else None


def _proposed(case: Case) -> PlanVersion | None:
    current = services.open_version(case)
    return current if current is not None and current.status is PlanStatus.PROPOSED else None


@bp.get("/family/<int:case_id>/plan")
@audited("read", case="case_id")
def family_plan(case_id: int) -> Response:
    case = get_case_for(current_user, case_id)
    require("family.use")
    return _family_page(case)


@bp.post("/family/<int:case_id>/priorities")
@audited("create", case="case_id")
def suggest_priorities(case_id: int) -> Response:
    case = require_case(case_id, "plan.suggest")
    form = CommentForm()
    if not form.validate_on_submit():
        return _family_page(case, comment_form=form, status=422)
    services.do_suggest_priorities(current_user, case, form.comment.data or "")
    db.session.commit()  # commit point: the view's change
    flash(_("Thank you. Your suggestion went to the therapist."), "success")
    return redirect(url_for("plans.family_plan", case_id=case.id), 303)  # type: ignore[return-value]


@bp.post("/family/<int:case_id>/review-request")
@audited("create", case="case_id")
def request_review(case_id: int) -> Response:
    case = require_case(case_id, "plan.suggest")
    form = CommentForm(prefix="review")
    if not form.validate_on_submit():
        return _family_page(case, review_form=form, status=422)
    services.do_request_review(current_user, case, form.comment.data or "")
    db.session.commit()  # commit point: the view's change
    flash(_("Thank you. The therapist will plan a review with you."), "success")
    return redirect(url_for("plans.family_plan", case_id=case.id), 303)  # type: ignore[return-value]


@bp.get("/me/plan")
@audited("read")
@child_mode_allowed
def child_plan() -> Response:
    """The plan in the child's words only: no clinical text, no adults' comments."""
    case = case_for_child_screen()
    band = case.child.age_band(today())
    progress = progress_by_goal(case.id)
    mine = {
        key: [r for r in ratings if r.rater_role is Informant.CHILD]
        for key, ratings in progress.items()
    }
    return render(
        "plans/child.html",
        case=case,
        child=case.child,
        band=band,
        active=services.active_version(case),
        proposed=_proposed(case),
        my_progress=mine,
        assent_form=AssentForm(formdata=None),
        progress_form=ProgressForm(formdata=None),
        young=band is AgeBand.YOUNG,
        request_path=request.path,
    )
