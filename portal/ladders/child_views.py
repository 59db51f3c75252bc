"""The child's screen: my ladder, logging a practice, my tokens or stars, cheers, rewards.

The child signed in, or a young child (or 8-12) in child mode on a guardian's device; then the
guardian is the actor and every entry is recorded as made on the child's behalf.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, flash, request
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal import db
from portal.audit_trail import audited
from portal.child.queries import require_child_case, require_plain_child_case
from portal.db import utcnow
from portal.i18n import gettext as _
from portal.i18n import moments
from portal.labels import kin
from portal.ladders import bp, services, young_views
from portal.ladders.forms import ButtonForm, PracticeForm, SuggestStepForm, suggest_step_form
from portal.ladders.queries import (
    get_case_step,
    get_reward_in,
    jar_totals,
    ladders_of,
    recent_tries,
    reward_menu,
    unseen_cheers,
)
from portal.ladders.scales import POINTS, ScaleError, scale_for, to_canonical
from portal.models import AgeBand, Case
from portal.models.case_rows import AnyCase
from portal.models.ladders import Completion, LadderStep
from portal.policies import is_the_child, may, today
from portal.security import child_mode_allowed
from portal.session_state import in_child_mode
from portal.web.htmx import render, see_other
from portal.web.reads_first import reads_first


def _suggest_form(case: Case, formdata: object = None) -> SuggestStepForm:
    return suggest_step_form(ladders_of(case.id), formdata)


def _my_ladder(
    case: AnyCase, *, suggest_form: SuggestStepForm | None = None, status: int = 200
) -> Response:
    band = case.child.age_band(today())
    young = band is AgeBand.YOUNG
    totals = jar_totals(case.id)
    ladders = ladders_of(case.id, joined=True)
    here_steps = [step for lad in ladders if (step := services.current_step(lad))]
    # Calm days show beside each step being practised (not to the youngest): one query for all.
    practising = [s for lad in ladders for s in lad.active_steps if s.is_practising]
    calm = services.calm_days_of(practising) if not young else {}
    return render(
        "ladders/child.html",
        case=case,
        child=case.child,
        band=band,
        young=young,
        ladders=ladders,
        calm_days=calm,
        # The youngest see no list of tries, so none is read for them.
        recent=recent_tries(current_user, case, limit=5) if not young else [],
        day=moments("day"),  # each try's day, as the `local` filter's "day"
        stars=totals.practices,
        balance=totals.balance,
        jar=young_views.jar_of_stars(totals.balance, 0),
        here_steps={step.id for step in here_steps},
        offline_pages=young_views.offline_pages(here_steps) if band is AgeBand.YOUNG else [],
        spendable=totals.balance - totals.pending,
        rewards=reward_menu(case.id),  # the approved ones, each saying whether it is waiting
        cheers=unseen_cheers(case.id),
        suggest_form=suggest_form or suggest_step_form(ladders, None),
        may_suggest=may("step.suggest", case),
        status=status,
    )


@bp.get("/me/ladder")
@audited("read")
@child_mode_allowed
def child_ladder() -> Response:
    return _my_ladder(require_plain_child_case("practice.log"))


# --- logging a practice --------------------------------------------------------------------------


def _coach_choices(case: Case) -> list[SelectChoice]:
    now = utcnow()
    choices = [SelectChoice("", _("No one, I did it on my own"))]
    for link in case.guardian_links:
        if link.is_current(now):
            first = link.guardian.display_name.split()[0]
            choices.append(SelectChoice(str(link.guardian_id), f"{first} ({kin(link.household)})"))
    return choices


def _practice_form(case: Case, formdata: object = None) -> PracticeForm:
    if formdata is None:
        form = PracticeForm(formdata=None)
        form.new_key()
    else:
        form = PracticeForm(formdata=formdata)
    form.coach.choices = _coach_choices(case)
    return form


def _practice_page(
    case: Case,
    step: LadderStep,
    form: PracticeForm,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    band = case.child.age_band(today())
    scale = scale_for(band)
    return render(
        "ladders/practice.html",
        case=case,
        child=case.child,
        band=band,
        young=band is AgeBand.YOUNG,
        step=step,
        form=form,
        scale=scale,
        points=POINTS[scale],
        completions=list(Completion),
        for_the_child=in_child_mode(),
        error=error,
        status=status,
    )


@bp.get("/me/ladder/steps/<int:step_id>")
@audited("read", ladder_step="step_id")
@child_mode_allowed
def practice_form(step_id: int) -> Response:
    case = require_child_case("practice.log")
    step = get_case_step(case, step_id)
    if case.child.age_band(today()) is AgeBand.YOUNG:
        form = _practice_form(case)
        return young_views.young_practice_from_request(case, step, form)
    return _practice_page(case, step, _practice_form(case))


def _when(choice: str | None) -> object:
    now = utcnow()
    if choice == "today":
        earlier = now - timedelta(hours=1)
        return earlier if earlier.date() == now.date() else now
    if choice == "yesterday":
        return now - timedelta(days=1)
    if choice == "2":
        return now - timedelta(days=2)
    return now


def _practice_input(form: PracticeForm, case: Case) -> services.PracticeInput | None:
    """Check each rating against the child's scale; errors go on the field, nothing is lost."""
    scale = scale_for(case.child.age_band(today()))
    ok = True
    for field in (form.fear_before, form.fear_peak, form.fear_after):
        if field.data is not None:
            try:
                to_canonical(scale, field.data)
            except ScaleError as exc:
                field.errors = [str(exc)]
                ok = False
    if not ok or form.fear_peak.data is None:
        return None
    coach_id = int(form.coach.data) if form.coach.data else None
    coach = next((c.label for c in form.coach.choices if c.value == form.coach.data), "")
    when = _when(form.when.data)
    return services.PracticeInput(
        ratings=services.Ratings(
            scale,
            peak=form.fear_peak.data,
            before=form.fear_before.data,
            after=form.fear_after.data,
        ),
        completion=Completion(form.completion.data),
        idempotency_key=form.idempotency_key.data or "",
        duration_minutes=form.duration_minutes.data,
        coach_id=coach_id,
        coach=coach if coach_id else "",
        prediction=form.prediction.data or "",
        outcome=form.outcome.data or "",
        note=form.note.data or "",
        note_private=bool(form.note_private.data),
        practiced_at=when,  # type: ignore[arg-type]
    )


@bp.post("/me/ladder/steps/<int:step_id>")
@audited("create", ladder_step="step_id")
@child_mode_allowed
@reads_first
def log_practice(step_id: int) -> Response:
    """Reads first (issue 17): on SQLite the sign-in, the case, the consent, the step and the
    form are read and checked without the write lock, which is taken only once the try is valid;
    `will_write()` then checks that every row read is still as it was (or the request runs again
    under the lock), so the try is stored exactly when it would have been before."""
    case = require_child_case("practice.log")
    step = get_case_step(case, step_id)
    form = _practice_form(case, formdata=request.form)
    data = _practice_input(form, case) if form.validate_on_submit() else None
    band = case.child.age_band(today())
    if data is None:
        return _retry_page(case, step, form, band)
    db.will_write()
    try:
        result = services.do_log_practice(
            current_user,
            case,
            step,
            data,
            on_behalf_of_child=in_child_mode(),
            private_notes_allowed=band is AgeBand.TEEN and is_the_child(current_user, case),
        )
    except services.LadderRuleError as exc:
        db.session.rollback()
        return _retry_page(case, step, form, band, error=str(exc))
    db.session.commit()  # commit point: the view's change
    if band is AgeBand.YOUNG:  # the celebration screen says well done with the jar
        return see_other("ladders.well_done", earned=result.tokens, mastered=int(result.mastered))
    flash(_well_done(band, result), "success")
    return see_other("ladders.child_ladder")


def _retry_page(
    case: Case, step: LadderStep, form: PracticeForm, band: AgeBand, error: str | None = None
) -> Response:
    """The form again with what was chosen kept; a young child sees the screen that needs it."""
    if band is not AgeBand.YOUNG:
        return _practice_page(case, step, form, error=error, status=422)
    answers = young_views.answers_from(request.form)
    return young_views.young_practice_page(
        case, step, stage="how", answers=answers, form=form, error=error, status=422
    )


def _well_done(band: AgeBand, result: services.PracticeResult) -> str:
    if band is AgeBand.CHILD:
        message = _("Saved! You earned %(tokens)s tokens for your jar.", tokens=result.tokens)
    else:
        message = _("Practice saved. +%(tokens)s tokens.", tokens=result.tokens)
    if result.mastered:
        message += _(" 🏆 You mastered this step!")
        if result.unlocked:
            message += _(" Next step open: “%(title)s”.", title=result.unlocked[0].title)
    return message


# --- ideas, rewards and cheers -------------------------------------------------------------------


@bp.post("/me/ladder/ideas")
@audited("create")
@child_mode_allowed
def child_suggest_step() -> Response:
    case = require_child_case("step.suggest")
    form = _suggest_form(case, formdata=request.form)
    if not form.validate_on_submit():
        return _my_ladder(case, suggest_form=form, status=422)
    ladder = next(lad for lad in ladders_of(case.id) if lad.id == form.ladder_id.data)
    services.do_suggest_step(
        current_user,
        case,
        ladder,
        title=form.title.data or "",
        on_behalf_of_child=in_child_mode(),
    )
    db.session.commit()  # commit point: the view's change
    flash(_("Great idea! Your therapist will look at it."), "success")
    return see_other("ladders.child_ladder")


@bp.post("/me/rewards/<int:reward_id>")
@audited("create", reward="reward_id")
@child_mode_allowed
def ask_reward(reward_id: int) -> Response:
    case = require_child_case("reward.request")
    reward = get_reward_in(case.id, reward_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        services.do_request_reward(current_user, case, reward, on_behalf_of_child=in_child_mode())
    except services.LadderRuleError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return see_other("ladders.child_ladder")
    db.session.commit()  # commit point: the view's change
    if case.child.age_band(today()) is AgeBand.TEEN:
        asked = _(
            "You asked for “%(title)s”. A parent will confirm when you get it.", title=reward.title
        )
    else:
        asked = _(
            "You asked for “%(title)s”. A grown-up will say yes when you get it.",
            title=reward.title,
        )
    flash(asked, "success")
    return see_other("ladders.child_ladder")


@bp.post("/me/cheers/seen")
@audited("update")
@child_mode_allowed
def cheers_seen() -> Response:
    case = require_child_case("practice.log")
    if not ButtonForm().validate_on_submit():
        abort(400)
    services.do_mark_cheers_seen(current_user, case)
    db.session.commit()  # commit point: the view's change
    flash(_("Thanks for reading your cheers!"), "success")
    return see_other("ladders.child_ladder")
