"""Progress for the grown-ups: fear over time per step, mastered steps, the weekly target, the
practice log with cheers, and the reward menu. Therapists and every guardian of the case see all
practice, whichever house it happened in; a teen's private note stays out (queries.practice_log).
"""

from __future__ import annotations

from flask import Response, abort, flash, request
from flask_babel import gettext as _
from flask_login import current_user

from portal import db
from portal.audit_trail import audited
from portal.cases.queries import require_case
from portal.ladders import bp, services
from portal.ladders.charts import step_charts
from portal.ladders.forms import (
    ButtonForm,
    CheerForm,
    RewardForm,
    SuggestStepForm,
    suggest_step_form,
    with_ids,
)
from portal.ladders.queries import (
    get_attempt_for,
    get_redemption_in,
    get_reward_in,
    goals_of,
    ladders_of,
    practice_log,
    redemptions_of,
    rewards_of,
    waiting_suggestions,
)
from portal.models import Case
from portal.models.ladders import StepStatus
from portal.policies import guardian_link_of, may, require
from portal.web.htmx import is_htmx, render, see_other

LOG_LENGTH = 12  # the charts and their tables hold every try; the log shows the latest


def _suggest_form(case: Case, formdata: object = None) -> SuggestStepForm:
    return suggest_step_form(ladders_of(case.id), formdata)


def _progress(
    case: Case,
    *,
    reward_form: RewardForm | None = None,
    suggest_form: SuggestStepForm | None = None,
    cheer_errors: dict[int, CheerForm] | None = None,
    status: int = 200,
    block: str | None = None,
    announcement: str = "",
) -> Response:
    ladders = ladders_of(case.id)
    log = practice_log(current_user, case)
    goal_text = {g.lineage_key: g.child_text for g in goals_of(case)}
    target = max((lad.weekly_target for lad in ladders), default=4)
    tokens = services.token_totals(case.id)  # the balance and the earned, one read (issue 17)
    return render(
        "ladders/progress.html",
        block=block,
        case=case,
        link=guardian_link_of(current_user, case),
        ladders=ladders,
        goal_text=goal_text,
        charts={lad.id: step_charts(lad, log) for lad in ladders},
        weeks=services.weekly_counts(case.id, target),
        mastered=sum(
            1 for lad in ladders for s in lad.active_steps if s.status is StepStatus.MASTERED
        ),
        target=target,
        log=log[:LOG_LENGTH],
        older=max(0, len(log) - LOG_LENGTH),
        balance=tokens.balance,
        earned=tokens.earned,
        rewards=rewards_of(case.id),
        redemptions=redemptions_of(case.id),
        suggestions=waiting_suggestions(case.id),
        my_ideas=services.own_suggestions(current_user, case) if current_user.is_guardian else [],
        cheer_form=CheerForm(formdata=None),
        cheer_errors=cheer_errors or {},
        reward_form=with_ids(reward_form or RewardForm(formdata=None), "reward"),
        suggest_form=with_ids(suggest_form or _suggest_form(case), "idea"),
        button_form=ButtonForm(formdata=None),
        announcement=announcement,
        status=status,
    )


@bp.get("/cases/<int:case_id>/progress")
@audited("read", case="case_id")
def progress(case_id: int) -> Response:
    case = require_case(case_id, "ladder.view_progress")
    if current_user.is_guardian:
        # Opening the page is seeing the therapist's decision on one's own step ideas: the
        # "What needs you" line for it closes (a recorded fact, not a guess).
        from portal.family.needs import forget_needs

        if services.do_mark_decisions_seen(current_user, case):
            db.session.commit()  # commit point: the recorded "seen"
            forget_needs()
    return _progress(case)


@bp.post("/practice/<int:attempt_id>/cheer")
@audited("create", practice="attempt_id")
def cheer(attempt_id: int) -> Response:
    """A sticker and a line of praise; htmx swaps the practice log in place."""
    attempt = get_attempt_for(current_user, attempt_id)
    case = require_case(attempt.case_id, "practice.cheer")
    form = CheerForm()
    fragment = is_htmx()
    if not form.validate_on_submit():
        return _progress(
            case,
            cheer_errors={attempt.id: form},
            status=422,
            block="practice_log" if fragment else None,
        )
    services.do_cheer(
        current_user, attempt, sticker=form.sticker.data or "⭐", message=form.message.data or ""
    )
    db.session.commit()  # commit point: the view's change
    name = case.child.first_name
    if fragment:
        return _progress(
            case,
            block="practice_log",
            announcement=_("Cheer sent. %(name)s sees it next time.", name=name),
        )
    flash(
        _("Cheer sent. %(name)s will see it next time they open their screen.", name=name),
        "success",
    )
    return see_other("ladders.progress", case_id=case.id)


@bp.post("/cases/<int:case_id>/rewards")
@audited("create", case="case_id")
def add_reward(case_id: int) -> Response:
    case = require_case(case_id, "reward.add")
    form = RewardForm()
    if not form.validate_on_submit():
        return _progress(case, reward_form=form, status=422)
    by_guardian = may("reward.approve", case)
    reward = services.do_add_reward(
        current_user,
        case,
        title=form.title.data or "",
        cost=form.cost.data or 1,
        picture=form.picture.data or "",
        approve=by_guardian,
    )
    db.session.commit()  # commit point: the view's change
    if by_guardian:
        flash(
            _(
                "“%(title)s” is on %(first_name)s's reward menu.",
                title=reward.title,
                first_name=case.child.first_name,
            ),
            "success",
        )
    else:
        flash(
            _("“%(title)s” added. A guardian approves it before it shows.", title=reward.title),
            "success",
        )
    return see_other("ladders.progress", case_id=case.id)


@bp.post("/cases/<int:case_id>/rewards/<int:reward_id>/approve")
@audited("update", reward="reward_id")
def approve_reward(case_id: int, reward_id: int) -> Response:
    case = require_case(case_id, "reward.approve")
    reward = get_reward_in(case.id, reward_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    services.do_approve_reward(current_user, reward)
    db.session.commit()  # commit point: the view's change
    flash(
        _(
            "“%(title)s” approved. %(first_name)s can now save up for it.",
            title=reward.title,
            first_name=case.child.first_name,
        ),
        "success",
    )
    return see_other("ladders.progress", case_id=case.id)


@bp.post("/cases/<int:case_id>/redemptions/<int:redemption_id>/confirm")
@audited("update", redemption="redemption_id")
def confirm_redemption(case_id: int, redemption_id: int) -> Response:
    case = require_case(case_id, "redemption.confirm")
    redemption = get_redemption_in(case.id, redemption_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.do_confirm_redemption(current_user, redemption)
    except services.LadderRuleError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return see_other("ladders.progress", case_id=case.id)
    db.session.commit()  # commit point: the view's change
    flash(
        _(
            "Confirmed: %(first_name)s got “%(title)s”.",
            first_name=case.child.first_name,
            title=redemption.reward.title,
        ),
        "success",
    )
    if request.form.get("back") == "family":  # confirmed from "What needs you"
        return see_other("family.case_page", case_id=case.id)
    return see_other("ladders.progress", case_id=case.id)


@bp.post("/cases/<int:case_id>/step-ideas")
@audited("create", case="case_id")
def suggest_step(case_id: int) -> Response:
    case = require_case(case_id, "step.suggest")
    require("family.use")  # children suggest from their own screen (child_views)
    form = _suggest_form(case, formdata=request.form)
    if not form.validate_on_submit():
        return _progress(case, suggest_form=form, status=422)
    ladder = next(lad for lad in ladders_of(case.id) if lad.id == form.ladder_id.data)
    services.do_suggest_step(
        current_user, case, ladder, title=form.title.data or "", on_behalf_of_child=False
    )
    db.session.commit()  # commit point: the view's change
    flash(_("Thank you. Your idea went to the therapist."), "success")
    return see_other("ladders.progress", case_id=case.id)
