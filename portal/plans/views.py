"""The therapist's side of the plan: problem list, drafting, proposing, signing off, tasks."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice

from portal import db
from portal.audit_trail import audited
from portal.cases.queries import require_case
from portal.i18n import lazy_gettext as _l
from portal.models import Case
from portal.models.plans import (
    Goal,
    GoalOwner,
    Informant,
    PlanStatus,
    PlanVersion,
    ProblemDomain,
    ProblemStatus,
)
from portal.plans import bp, services
from portal.plans.changes import describe_changes
from portal.plans.forms import (
    GoalForm,
    InterventionForm,
    MoveForm,
    PlanDetailsForm,
    ProblemForm,
    ProblemStatusForm,
    ProgressForm,
    ProposeForm,
    ResolveTaskForm,
    SeverityForm,
)
from portal.plans.queries import (
    get_goal_in,
    get_intervention_in,
    get_plan_for,
    get_problem_in,
    get_task_in,
    open_tasks,
    progress_by_goal,
)
from portal.web.htmx import is_htmx, render, see_other

CONFLICT = _l(
    "Someone saved this plan since you opened it. Your text is still below: "
    "reload to see their version, then copy in what you need."
)


@bp.app_template_global("plan_activation")
def _plan_activation(plan: PlanVersion) -> dict[str, bool]:
    """What a plan still needs before it can be active, for every page that shows one."""
    return services.activation_status(plan)


def _therapist_plan(plan_id: int) -> tuple[PlanVersion, Case]:
    plan = get_plan_for(current_user, plan_id)
    case = require_case(plan.case_id, "plan.edit")
    return plan, case


# --- problem list ----------------------------------------------------------------------------


def _problems_page(case: Case, form: ProblemForm | None = None, status: int = 200) -> Response:
    return render(
        "plans/problems.html",
        block="problem_list" if form is None else None,
        case=case,
        problems=services.ordered_problems(case),
        form=form or ProblemForm(formdata=None),
        statuses=list(ProblemStatus),
        status=status,
    )


@bp.get("/cases/<int:case_id>/problems")
@audited("read", case="case_id")
def problems(case_id: int) -> Response:
    return _problems_page(require_case(case_id, "plan.edit"))


@bp.post("/cases/<int:case_id>/problems")
@audited("create", case="case_id")
def add_problem(case_id: int) -> Response:
    case = require_case(case_id, "plan.edit")
    form = ProblemForm()
    if form.validate_on_submit():
        severities = {
            informant: value
            for informant, value in (
                (Informant.CHILD, form.severity_child.data),
                (Informant.GUARDIAN, form.severity_guardian.data),
                (Informant.THERAPIST, form.severity_therapist.data),
            )
            if value is not None
        }
        services.do_add_problem(
            current_user,
            case,
            child_words=form.child_words.data or "",
            clinical_words=form.clinical_words.data or "",
            domain=ProblemDomain(form.domain.data),
            reported_by=form.reported_by.data or "",
            severities=severities,
        )
        db.session.commit()  # commit point: the view's change
        flash(_("Problem added to the list."), "success")
        return see_other("plans.problems", case_id=case.id)
    return _problems_page(case, form, status=422)


@bp.post("/cases/<int:case_id>/problems/<int:problem_id>/move")
@audited("update", problem="problem_id")
def move_problem(case_id: int, problem_id: int) -> Response:
    """Up/down buttons; htmx swaps the list in place, a plain form post reloads the page."""
    case = require_case(case_id, "plan.edit")
    problem = get_problem_in(case.id, problem_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    services.do_move_problem(current_user, case, problem, form.direction.data or "up")
    db.session.commit()  # commit point: the view's change
    moved = "up" if form.direction.data == "up" else "down"
    if is_htmx():
        return render(
            "plans/problems.html",
            block="problem_list",
            case=case,
            problems=services.ordered_problems(case),
            statuses=list(ProblemStatus),
            announcement=(
                _("Moved “%(words)s” up.", words=problem.child_words)
                if moved == "up"
                else _("Moved “%(words)s” down.", words=problem.child_words)
            ),
            focus_problem=problem.id,
            focus_direction=moved,
        )
    return see_other("plans.problems", case_id=case.id)


@bp.post("/cases/<int:case_id>/problems/<int:problem_id>/severity")
@audited("create", problem="problem_id")
def rate_problem(case_id: int, problem_id: int) -> Response:
    case = require_case(case_id, "plan.edit")
    problem = get_problem_in(case.id, problem_id)
    form = SeverityForm()
    if form.validate_on_submit() and form.severity.data is not None:
        services.do_rate_problem(
            current_user,
            problem,
            informant=Informant(form.informant.data),
            severity=form.severity.data,
        )
        db.session.commit()  # commit point: the view's change
        flash(_("Rating saved."), "success")
    else:
        flash(_("A rating is a number from 0 to 10."), "error")
    return see_other("plans.problems", case_id=case.id)


@bp.post("/cases/<int:case_id>/problems/<int:problem_id>/status")
@audited("update", problem="problem_id")
def set_problem_status(case_id: int, problem_id: int) -> Response:
    case = require_case(case_id, "plan.edit")
    problem = get_problem_in(case.id, problem_id)
    form = ProblemStatusForm()
    if not form.validate_on_submit():
        abort(400)
    services.do_set_problem_status(current_user, problem, ProblemStatus(form.status.data))
    db.session.commit()  # commit point: the view's change
    flash(_("Status saved."), "success")
    return see_other("plans.problems", case_id=case.id)


# --- the plan hub and drafting -------------------------------------------------------------------


@bp.get("/cases/<int:case_id>/plan")
@audited("read", case="case_id")
def plan_hub(case_id: int) -> Response:
    return _hub(require_case(case_id, "plan.edit"))


def _hub(case: Case, status: int = 200) -> Response:
    active = services.active_version(case)
    return render(
        "plans/hub.html",
        status=status,
        case=case,
        active=active,
        open_version=services.open_version(case),
        versions=services.versions_of(case),
        tasks=open_tasks(case.id),
        progress=progress_by_goal(case.id),
        progress_form=ProgressForm(formdata=None),
        resolve_form=ResolveTaskForm(formdata=None),
    )


@bp.post("/cases/<int:case_id>/plan/draft")
@audited("create", case="case_id")
def start_draft(case_id: int) -> Response:
    case = require_case(case_id, "plan.edit")
    draft = services.do_start_draft(current_user, case)
    db.session.commit()  # commit point: the view's change
    return see_other("plans.edit", plan_id=draft.id)


def _goal_form(case: Case, goal: Goal | None = None, formdata: Any = None) -> GoalForm:
    if goal is not None and formdata is None:
        form = GoalForm(formdata=None, obj=goal)
        form.problem_ids.data = [p.id for p in goal.problems]
        form.edit_version.data = str(goal.edit_version)
        for entry, benchmark in zip(form.benchmarks.entries, goal.benchmarks, strict=False):
            entry.form.measure.data = benchmark.measure
            entry.form.target.data = benchmark.target
            entry.form.due_on.data = benchmark.due_on
    else:
        form = GoalForm(formdata=formdata) if formdata is not None else GoalForm(formdata=None)
    form.problem_ids.choices = [
        SelectChoice(str(p.id), p.child_words) for p in services.ordered_problems(case)
    ]
    return form


def _goal_input(form: GoalForm) -> services.GoalInput | None:
    benchmarks = []
    complete = True
    for entry in form.benchmarks.entries:
        fields = entry.form
        measure, target, due = fields.measure.data, fields.target.data, fields.due_on.data
        if not (measure or target or due):
            continue
        if not (measure and target and due):
            entry.form.measure.errors = [_("Fill in the measure, the target and the date.")]
            complete = False
            continue
        benchmarks.append(services.BenchmarkInput(measure, target, due))
    if not complete:
        return None
    return services.GoalInput(
        child_text=form.child_text.data or "",
        clinical_text=form.clinical_text.data or "",
        owner=GoalOwner(form.owner.data),
        problem_ids=list(form.problem_ids.data or []),
        benchmarks=benchmarks,
    )


def _editor(
    plan: PlanVersion,
    case: Case,
    *,
    details_form: PlanDetailsForm | None = None,
    goal_forms: dict[int, GoalForm] | None = None,
    new_goal_form: GoalForm | None = None,
    intervention_form: InterventionForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    if details_form is None:
        details_form = PlanDetailsForm(formdata=None, obj=plan)
        details_form.edit_version.data = str(plan.edit_version)
    forms = {goal.id: _goal_form(case, goal) for goal in plan.goals}
    forms.update(goal_forms or {})
    propose_form = ProposeForm(formdata=None)
    propose_form.edit_version.data = str(plan.edit_version)
    return render(
        "plans/edit.html",
        plan=plan,
        case=case,
        details_form=details_form,
        goal_forms=forms,
        new_goal_form=new_goal_form or _goal_form(case),
        intervention_form=intervention_form or InterventionForm(formdata=None),
        propose_form=propose_form,
        missing=services.proposal_problems(plan),
        changes=describe_changes(services.active_version(case), plan),
        error=error,
        status=status,
    )


def _editable(plan: PlanVersion, case: Case) -> Response | None:
    """A proposed, active, superseded or closed version never changes (IN-05): 409 Conflict."""
    if plan.status is not PlanStatus.DRAFT:
        flash(
            _("This version is no longer a draft. Start a new draft to change the plan."), "error"
        )
        return _hub(case, status=409)
    return None


@bp.get("/plans/<int:plan_id>/edit")
@audited("read", plan="plan_id")
def edit(plan_id: int) -> Response:
    plan, case = _therapist_plan(plan_id)
    return _editable(plan, case) or _editor(plan, case)


def _expected(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        abort(400)


@bp.post("/plans/<int:plan_id>/edit")
@audited("update", plan="plan_id")
def save_details(plan_id: int) -> Response:
    plan, case = _therapist_plan(plan_id)
    if stop := _editable(plan, case):
        return stop
    form = PlanDetailsForm()
    if not form.validate_on_submit():
        return _editor(plan, case, details_form=form, status=422)
    try:
        services.do_save_plan_details(
            current_user,
            plan,
            expected_edit_version=_expected(form.edit_version.data),
            change_summary=form.change_summary.data or "",
            review_interval_days=form.review_interval_days.data or 90,
        )
        db.session.commit()  # commit point: the view's change
    except (services.EditConflict, StaleDataError):
        db.session.rollback()
        return _editor(plan, case, details_form=form, error=CONFLICT, status=409)
    flash(_("Plan details saved."), "success")
    return see_other("plans.edit", plan_id=plan.id)


@bp.post("/plans/<int:plan_id>/goals")
@audited("create", plan="plan_id")
def add_goal(plan_id: int) -> Response:
    plan, case = _therapist_plan(plan_id)
    if stop := _editable(plan, case):
        return stop
    form = _goal_form(case, formdata=request.form)
    data = _goal_input(form) if form.validate_on_submit() else None
    if data is None:
        return _editor(plan, case, new_goal_form=form, status=422)
    try:
        services.do_add_goal(current_user, plan, case, data)
    except services.PlanRuleError as exc:
        return _editor(plan, case, new_goal_form=form, error=str(exc), status=422)
    db.session.commit()  # commit point: the view's change
    flash(_("Goal added."), "success")
    return see_other("plans.edit", plan_id=plan.id)


@bp.post("/plans/<int:plan_id>/goals/<int:goal_id>")
@audited("update", goal="goal_id")
def save_goal(plan_id: int, goal_id: int) -> Response:
    plan, case = _therapist_plan(plan_id)
    if stop := _editable(plan, case):
        return stop
    goal = get_goal_in(plan, goal_id)
    form = _goal_form(case, formdata=request.form)
    data = _goal_input(form) if form.validate_on_submit() else None
    if data is None:
        return _editor(plan, case, goal_forms={goal.id: form}, status=422)
    try:
        services.do_save_goal(
            current_user, goal, case, data, expected_edit_version=_expected(form.edit_version.data)
        )
        db.session.commit()  # commit point: the view's change
    except (services.EditConflict, StaleDataError):
        db.session.rollback()
        return _editor(plan, case, goal_forms={goal.id: form}, error=CONFLICT, status=409)
    flash(_("Goal %(position)s saved.", position=goal.position), "success")
    return see_other("plans.edit", plan_id=plan.id)


@bp.post("/plans/<int:plan_id>/goals/<int:goal_id>/delete")
@audited("delete", goal="goal_id")
def remove_goal(plan_id: int, goal_id: int) -> Response:
    plan, case = _therapist_plan(plan_id)
    if stop := _editable(plan, case):
        return stop
    services.do_remove_goal(current_user, get_goal_in(plan, goal_id))
    db.session.commit()  # commit point: the view's change
    flash(_("Goal removed from this draft."), "success")
    return see_other("plans.edit", plan_id=plan.id)


@bp.post("/plans/<int:plan_id>/interventions")
@audited("create", plan="plan_id")
def add_intervention(plan_id: int) -> Response:
    plan, case = _therapist_plan(plan_id)
    if stop := _editable(plan, case):
        return stop
    form = InterventionForm()
    if not form.validate_on_submit():
        return _editor(plan, case, intervention_form=form, status=422)
    services.do_add_intervention(
        current_user,
        plan,
        what=form.what.data or "",
        who=form.who.data or "",
        how_often=form.how_often.data or "",
    )
    db.session.commit()  # commit point: the view's change
    flash(_("Added to “who does what”."), "success")
    return see_other("plans.edit", plan_id=plan.id)


@bp.post("/plans/<int:plan_id>/interventions/<int:item_id>/delete")
@audited("delete", intervention="item_id")
def remove_intervention(plan_id: int, item_id: int) -> Response:
    plan, case = _therapist_plan(plan_id)
    if stop := _editable(plan, case):
        return stop
    services.do_remove_intervention(current_user, get_intervention_in(plan, item_id))
    db.session.commit()  # commit point: the view's change
    flash(_("Removed from “who does what”."), "success")
    return see_other("plans.edit", plan_id=plan.id)


@bp.post("/plans/<int:plan_id>/propose")
@audited("update", plan="plan_id")
def propose(plan_id: int) -> Response:
    plan, case = _therapist_plan(plan_id)
    if stop := _editable(plan, case):
        return stop
    form = ProposeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.do_propose(
            current_user,
            plan,
            expected_edit_version=_expected(form.edit_version.data),
            sign_off=form.sign_off.data,
        )
        db.session.commit()  # commit point: the view's change
    except services.PlanRuleError as exc:
        db.session.rollback()
        return _editor(plan, case, error=str(exc), status=422)
    except (services.EditConflict, StaleDataError):
        db.session.rollback()
        return _editor(plan, case, error=CONFLICT, status=409)
    flash(
        _(
            "Version %(number)s is proposed. The family can now see it and answer.",
            number=plan.number,
        ),
        "success",
    )
    return see_other("plans.plan_hub", case_id=case.id)


@bp.post("/plans/<int:plan_id>/sign-off")
@audited("update", plan="plan_id")
def sign_off(plan_id: int) -> Response:
    plan, case = _therapist_plan(plan_id)
    try:
        services.do_sign_off(current_user, plan)
    except services.PlanRuleError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()  # commit point: the view's change
        flash(_("Signed off."), "success")
    return see_other("plans.plan_hub", case_id=case.id)


@bp.post("/cases/<int:case_id>/tasks/<int:task_id>/resolve")
@audited("update", task="task_id")
def resolve_task(case_id: int, task_id: int) -> Response:
    case = require_case(case_id, "plan.edit")
    task = get_task_in(case.id, task_id)
    form = ResolveTaskForm()
    if not form.validate_on_submit():
        abort(400)
    services.do_resolve_task(current_user, task, form.note.data or "")
    db.session.commit()  # commit point: the view's change
    flash(_("Marked as done."), "success")
    return see_other("plans.plan_hub", case_id=case.id)
