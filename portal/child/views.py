"""The child's own screen, for a child signed in or a young child in child mode."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import db
from portal.auth.forms import LeaveChildModeForm
from portal.cases.queries import get_case_for, get_case_for_child_user, visible_case_ids
from portal.models import Case
from portal.passwords import verify_secret
from portal.policies import can, child_data_allowed, today
from portal.security import current_auth_session
from portal.web.htmx import render

bp = Blueprint("child", __name__)


def _child_mode_case() -> Case | None:
    auth_session = current_auth_session()
    if auth_session is None or auth_session.child_mode_child_id is None:
        return None
    case_id = db.session.scalars(
        select(Case.id)
        .where(Case.child_id == auth_session.child_mode_child_id)
        .where(Case.id.in_(visible_case_ids(current_user)))
    ).first()
    if case_id is None:  # the guardian's link ended while in child mode
        auth_session.child_mode_child_id = None
        db.session.commit()
        abort(404)
    return get_case_for(current_user, case_id)


def case_for_child_screen() -> Case:
    """The case whose child is at the screen: the child signed in, or a child in child mode."""
    if current_user.is_child:
        case = get_case_for_child_user(current_user)
        if case is None or not can(current_user, "child.view_own_screen", case):
            abort(404)
        if not child_data_allowed(case):  # consent withdrawn since sign-in (CO-01)
            abort(404)
        return case
    if current_user.is_guardian:
        child_mode_case = _child_mode_case()
        if child_mode_case is not None:
            return child_mode_case
    abort(404)


@bp.get("/me")
def home() -> Response:
    from portal.feedback.services import feedback_due

    case = case_for_child_screen()
    band = case.child.age_band(today())
    due = feedback_due(case, f"child:{case.child_id}")
    from portal.child.assent import latest_care_assent
    from portal.ladders.queries import unseen_cheers

    return render(
        "child/home.html",
        case=case,
        child=case.child,
        band=band,
        feedback_due=due[:1],
        new_cheers=len(unseen_cheers(case.id)),
        assent_asked=latest_care_assent(case) is None,
    )


@bp.route("/me/leave", methods=["GET", "POST"])
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
            db.session.commit()
            flash(_("Welcome back. You left the child's screen."), "success")
            return redirect(url_for("family.home"), 303)  # type: ignore[return-value]
        form.password.errors = [_("That is not the right password.")]
    status = 422 if request.method == "POST" else 200
    return render("child/leave.html", form=form, status=status)
