"""The child's own screen, for a child signed in or a young child in child mode."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import db
from portal.audit_trail import audited
from portal.auth.forms import LeaveChildModeForm
from portal.child import bp
from portal.child.queries import case_for_child_screen
from portal.feedback.services import feedback_due
from portal.ladders.queries import unseen_cheers
from portal.models import AgeBand, Case
from portal.models.ladders import StepStatus
from portal.passwords import verify_secret
from portal.policies import today
from portal.security import child_mode_allowed
from portal.session_state import current_auth_session
from portal.web.htmx import render


@bp.get("/me")
@audited("read")
@child_mode_allowed
def home() -> Response:
    case = case_for_child_screen()
    band = case.child.age_band(today())
    due = feedback_due(case, f"child:{case.child_id}")
    return render(
        "child/home.html",
        case=case,
        child=case.child,
        band=band,
        feedback_due=due[:1],
        new_cheers=len(unseen_cheers(case.id)),
        teen=_teen_overview(case) if band is AgeBand.TEEN else None,
    )


def _teen_overview(case: Case) -> dict[str, object]:
    """A teen's home (issue 15): the next step, progress, and this week against the target."""
    from portal.ladders.queries import ladders_of
    from portal.ladders.services import current_step, weekly_counts

    ladders = ladders_of(case.id)
    steps = [step for ladder in ladders for step in ladder.active_steps]
    target = ladders[0].weekly_target if ladders else 0
    return {
        "next_steps": [step for ladder in ladders if (step := current_step(ladder))],
        "mastered": sum(step.status is StepStatus.MASTERED for step in steps),
        "steps": len(steps),
        "this_week": weekly_counts(case.id, target, weeks=1)[0].count if ladders else 0,
        "target": target,
    }


@bp.route("/me/leave", methods=["GET", "POST"])
@audited("update")
@child_mode_allowed
def leave() -> Response:
    """Leaving child mode needs the grown-up's password, so the child cannot wander off."""
    auth_session = current_auth_session()
    if (
        not current_user.is_guardian
        or auth_session is None
        or auth_session.child_mode_child_id is None
    ):
        abort(404)
    form = LeaveChildModeForm()
    if form.validate_on_submit():
        if verify_secret(current_user.password_hash, form.password.data or ""):
            auth_session.child_mode_child_id = None
            db.session.commit()  # commit point: the view's change
            flash(_("Welcome back. You left the child's screen."), "success")
            return redirect(url_for("family.home"), 303)  # type: ignore[return-value]
        form.password.errors = [_("That is not the right password.")]
    status = 422 if request.method == "POST" else 200
    return render("child/leave.html", form=form, status=status)
