"""The therapist's ladder builder: ladders per goal, steps, mastery rule, overrides, suggestions.

The family's progress pages and the child's screen add their routes to this blueprint from
`progress_views` and `child_views`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from portal import db
from portal.audit_trail import audited
from portal.cases.queries import require_case
from portal.labels import label
from portal.ladders import bp, pictures, services
from portal.ladders.forms import (
    ButtonForm,
    DecisionForm,
    LadderForm,
    LadderSettingsForm,
    MoveForm,
    OverrideForm,
    StepForm,
)
from portal.ladders.queries import (
    get_ladder_for,
    get_step_in,
    get_suggestion_in,
    goals_of,
    ladders_of,
    waiting_suggestions,
)
from portal.models import Case
from portal.models.ladders import Ladder, LadderStep, StepStatus
from portal.web.htmx import is_htmx, render, see_other

# Pictures for every template (portal/ladders/pictures.py): only keys that have a drawing in
# static/pictures/ are drawn.
bp.add_app_template_global(pictures.has_picture)
bp.add_app_template_global(pictures.picture)
bp.add_app_template_global(pictures.step_picture)


def _therapist_ladder(ladder_id: int) -> tuple[Ladder, Case]:
    ladder = get_ladder_for(current_user, ladder_id)
    return ladder, require_case(ladder.case_id, "ladder.edit")


def _button_on_step(
    ladder_id: int, step_id: int, form: FlaskForm
) -> tuple[Ladder, Case, LadderStep]:
    """A button on one step (move, retire, override): the ladder in the therapist's case, the step
    on that ladder, and a valid form (a button's form is only ever invalid when tampered with)."""
    ladder, case = _therapist_ladder(ladder_id)
    step = get_step_in(ladder, step_id)
    if not form.validate_on_submit():
        abort(400)
    return ladder, case, step


def _step_fields(form: StepForm) -> dict[str, Any]:
    """What the step form says, as the add and edit services take it."""
    return {
        "title": form.title.data or "",
        "fear_score": form.fear_score,
        "picture": form.picture.data or "",
        "instructions": form.instructions.data or "",
    }


def _saved(ladder: Ladder, message: str) -> Response:
    """After a change to a ladder: commit it, say so, and show the ladder again."""
    db.session.commit()  # commit point: the view's change
    flash(message, "success")
    return see_other("ladders.ladder", ladder_id=ladder.id)


# --- all ladders of a case -----------------------------------------------------------------------


def _ladder_form(case: Case, formdata: Any = None) -> LadderForm:
    form = LadderForm(formdata=formdata) if formdata is not None else LadderForm(formdata=None)
    form.goal.choices = [SelectChoice(g.lineage_key, g.child_text) for g in goals_of(case)]
    return form


def _builder(case: Case, form: LadderForm | None = None, status: int = 200) -> Response:
    ladders = ladders_of(case.id)
    goal_text = {g.lineage_key: g.child_text for g in goals_of(case)}
    return render(
        "ladders/builder.html",
        case=case,
        ladders=ladders,
        goal_text=goal_text,
        gaps={ladder.id: services.gap_warnings(ladder) for ladder in ladders},
        suggestions=waiting_suggestions(case.id),
        decision_form=DecisionForm(formdata=None),
        form=form or _ladder_form(case),
        status=status,
    )


@bp.get("/cases/<int:case_id>/ladders")
@audited("read", case="case_id")
def builder(case_id: int) -> Response:
    return _builder(require_case(case_id, "ladder.edit"))


@bp.post("/cases/<int:case_id>/ladders")
@audited("create", case="case_id")
def add_ladder(case_id: int) -> Response:
    case = require_case(case_id, "ladder.edit")
    form = _ladder_form(case, formdata=request.form)
    if not form.validate_on_submit():
        return _builder(case, form, status=422)
    ladder = services.do_create_ladder(
        current_user,
        case,
        goal_lineage_key=form.goal.data or "",
        title=form.title.data or "",
        mastery_peak_max=form.mastery_peak_max.data or 0,
        mastery_days=form.mastery_days.data or 3,
        weekly_target=form.weekly_target.data or 4,
    )
    db.session.commit()  # commit point: the view's change
    flash(
        _(
            "Ladder “%(title)s” created. Next, press “Edit steps” to add its steps.",
            title=ladder.title,
        ),
        "success",
    )
    return see_other("ladders.builder", case_id=case.id, _anchor=f"ladder-{ladder.id}")


@bp.post("/cases/<int:case_id>/suggestions/<int:suggestion_id>")
@audited("update", step_suggestion="suggestion_id")
def decide_suggestion(case_id: int, suggestion_id: int) -> Response:
    case = require_case(case_id, "ladder.edit")
    suggestion = get_suggestion_in(case.id, suggestion_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(_("Use a fear rating from 0 to 10."), "error")
        return see_other("ladders.builder", case_id=case.id)
    approve = form.decision.data == "approve"
    score = None if form.fear_rating.data is None else round(float(form.fear_rating.data) * 10)
    try:
        services.do_decide_suggestion(current_user, suggestion, approve=approve, fear_score=score)
    except services.LadderRuleError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return see_other("ladders.builder", case_id=case.id)
    db.session.commit()  # commit point: the view's change
    flash(
        _("“%(title)s” added to the ladder.", title=suggestion.title)
        if approve
        else _("Suggestion set aside."),
        "success",
    )
    return see_other("ladders.builder", case_id=case.id)


# --- one ladder ----------------------------------------------------------------------------------


def _editor(
    ladder: Ladder,
    case: Case,
    *,
    settings_form: LadderSettingsForm | None = None,
    step_form: StepForm | None = None,
    edit_forms: dict[int, StepForm] | None = None,
    error: str | None = None,
    status: int = 200,
    block: str | None = None,
    **extra: Any,
) -> Response:
    forms = {}
    for step in ladder.active_steps:
        forms[step.id] = StepForm(formdata=None, obj=step)
        forms[step.id].fear_rating.data = step.fear_score / 10
    forms.update(edit_forms or {})
    for step_id, form in forms.items():  # one page holds a form per step: keep ids unique
        for form_field in form:
            form_field.id = form_field.label.field_id = f"s{step_id}-{form_field.name}"
    return render(
        "ladders/ladder.html",
        block=block,
        case=case,
        ladder=ladder,
        steps=ladder.active_steps,
        retired=[s for s in ladder.steps if s.retired_at],
        gaps=services.gap_warnings(ladder),
        calm_days=services.calm_days_of(ladder.active_steps),
        settings_form=settings_form or LadderSettingsForm(formdata=None, obj=ladder),
        step_form=step_form or StepForm(formdata=None),
        edit_forms=forms,
        override_form=OverrideForm(formdata=None),
        error=error,
        status=status,
        **extra,
    )


@bp.get("/ladders/<int:ladder_id>")
@audited("read", ladder="ladder_id")
def ladder(ladder_id: int) -> Response:
    return _editor(*_therapist_ladder(ladder_id))


@bp.post("/ladders/<int:ladder_id>/settings")
@audited("update", ladder="ladder_id")
def save_settings(ladder_id: int) -> Response:
    ladder, case = _therapist_ladder(ladder_id)
    form = LadderSettingsForm()
    if not form.validate_on_submit():
        return _editor(ladder, case, settings_form=form, status=422)
    services.do_save_ladder_settings(
        current_user,
        ladder,
        title=form.title.data or "",
        mastery_peak_max=form.mastery_peak_max.data or 0,
        mastery_days=form.mastery_days.data or 3,
        weekly_target=form.weekly_target.data or 4,
    )
    return _saved(ladder, _("Ladder settings saved."))


@bp.post("/ladders/<int:ladder_id>/steps")
@audited("create", ladder="ladder_id")
def add_step(ladder_id: int) -> Response:
    ladder, case = _therapist_ladder(ladder_id)
    form = StepForm()
    if not form.validate_on_submit():
        return _editor(ladder, case, step_form=form, status=422)
    try:
        step = services.do_add_step(current_user, ladder, **_step_fields(form))
    except services.LadderRuleError as exc:
        db.session.rollback()
        return _editor(ladder, case, step_form=form, error=str(exc), status=422)
    return _saved(
        ladder,
        _("Step “%(title)s” added as step %(position)s.", title=step.title, position=step.position),
    )


@bp.post("/ladders/<int:ladder_id>/steps/<int:step_id>")
@audited("update", ladder_step="step_id")
def save_step(ladder_id: int, step_id: int) -> Response:
    ladder, case = _therapist_ladder(ladder_id)
    step = get_step_in(ladder, step_id)
    form = StepForm()
    if not form.validate_on_submit():
        return _editor(ladder, case, edit_forms={step.id: form}, status=422)
    try:
        services.do_edit_step(current_user, step, **_step_fields(form))
    except services.LadderRuleError as exc:
        db.session.rollback()
        return _editor(ladder, case, edit_forms={step.id: form}, error=str(exc), status=422)
    return _saved(ladder, _("Step “%(title)s” saved.", title=step.title))


@bp.post("/ladders/<int:ladder_id>/steps/<int:step_id>/move")
@audited("update", ladder_step="step_id")
def move_step(ladder_id: int, step_id: int) -> Response:
    """Up/down buttons; htmx swaps the step list in place, a plain form post reloads the page."""
    form = MoveForm()
    ladder, case, step = _button_on_step(ladder_id, step_id, form)
    direction = form.direction.data or "up"
    services.do_move_step(current_user, ladder, step, direction)
    db.session.commit()  # commit point: the view's change
    moved = {"title": step.title, "position": step.position}
    if is_htmx():
        return _editor(
            ladder,
            case,
            block="step_list",
            announcement=(
                _("Moved “%(title)s” up. It is now step %(position)s.", **moved)
                if direction == "up"
                else _("Moved “%(title)s” down. It is now step %(position)s.", **moved)
            ),
            focus_step=step.id,
            focus_direction=direction,
        )
    if direction == "up":
        flash(_("Moved “%(title)s” up.", title=step.title), "success")
    else:
        flash(_("Moved “%(title)s” down.", title=step.title), "success")
    return see_other("ladders.ladder", ladder_id=ladder.id)


@bp.post("/ladders/<int:ladder_id>/steps/<int:step_id>/retire")
@audited("delete", ladder_step="step_id")
def retire_step(ladder_id: int, step_id: int) -> Response:
    ladder, _case, step = _button_on_step(ladder_id, step_id, ButtonForm())
    services.do_retire_step(current_user, ladder, step)
    return _saved(
        ladder, _("Step “%(title)s” retired. Its practice history is kept.", title=step.title)
    )


@bp.post("/ladders/<int:ladder_id>/steps/<int:step_id>/status")
@audited("update", ladder_step="step_id")
def override_step(ladder_id: int, step_id: int) -> Response:
    form = OverrideForm()
    ladder, _case, step = _button_on_step(ladder_id, step_id, form)
    status = StepStatus(form.status.data)
    services.do_override_step(current_user, ladder, step, status)
    return _saved(
        ladder, _("“%(title)s” is now %(status)s.", title=step.title, status=label(status).lower())
    )
