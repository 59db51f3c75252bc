"""The therapist's side of the care team: caseload, opening a case, inviting guardians."""

from __future__ import annotations

from flask import Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import db
from portal.audit_trail import audited
from portal.cases import bp
from portal.cases.forms import AddTherapistForm, ChildAccountForm, InviteGuardianForm, OpenCaseForm
from portal.cases.queries import get_case_for, get_in_case, reached
from portal.cases.services import (
    ServiceError,
    do_add_therapist,
    do_create_child_account,
    do_end_guardian_link,
    do_invite_guardian,
    do_open_case,
    do_remove_therapist,
    do_set_restriction,
)
from portal.db import utcnow
from portal.models import AgeBand, Case, GuardianRestriction, Invitation, User
from portal.passwords import password_problem, pin_problem
from portal.policies import require, today
from portal.web.htmx import render


@bp.get("/caseload")
@audited("read")
def caseload() -> Response:
    """The work queue. Sort, filter and search live in the URL; htmx asks for the results block
    only (same URL), so back, reload and a shared link all show the same view."""
    require("caseload.view")
    from portal.cases import worklist

    state = worklist.QueueState.from_args(request.args)
    day = today()
    rows = worklist.caseload_queue(current_user, now=utcnow(), today=day)
    page = render(
        "cases/caseload.html",
        block="results",
        state=state,
        # Issue 17: each row worked out in Python (portal/cases/worklist.py, "On the page").
        rows=worklist.shown_rows(worklist.view_of(rows, state, day), day),
        total=len(rows),
        counts=worklist.filter_counts(rows, day),
        filters=worklist.translated(worklist.FILTERS),
        sorts=worklist.translated(worklist.SORTS),
    )
    return page


@bp.route("/cases/new", methods=["GET", "POST"])
@audited("create")
def open_case() -> Response:
    require("case.open")
    form = OpenCaseForm()
    if form.validate_on_submit():
        case = do_open_case(
            current_user,
            first_name=form.first_name.data or "",
            last_name=form.last_name.data or "",
            date_of_birth=form.date_of_birth.data,
            concern=form.concern.data or "",
        )
        db.session.commit()  # commit point: the view's change
        flash(
            _(
                "Case opened for %(first_name)s. Next, invite a guardian.",
                first_name=case.child.first_name,
            ),
            "success",
        )
        return redirect(url_for("cases.case_page", case_id=case.id), 303)  # type: ignore[return-value]
    return render("cases/open_case.html", form=form, status=422 if form.errors else 200)


def _case_page(
    case: Case,
    *,
    invite_form: InviteGuardianForm | None = None,
    therapist_form: AddTherapistForm | None = None,
    status: int = 200,
    new_link: str | None = None,
) -> Response:
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.case_id == case.id).order_by(Invitation.id.desc())
    ).all()
    return render(
        "cases/case.html",
        case=case,
        invitations=invitations,
        invite_form=invite_form or InviteGuardianForm(formdata=None),
        therapist_form=therapist_form or AddTherapistForm(formdata=None),
        new_link=new_link,
        status=status,
    )


@bp.get("/cases/<int:case_id>")
@audited("read", case="case_id")
def case_page(case_id: int) -> Response:
    case = get_case_for(current_user, case_id)
    require("case.manage_team", case)
    return _case_page(case)


@bp.post("/cases/<int:case_id>/invitations")
@audited("create", case="case_id")
def invite_guardian(case_id: int) -> Response:
    case = get_case_for(current_user, case_id)
    require("case.manage_team", case)
    form = InviteGuardianForm()
    if form.validate_on_submit():
        try:
            do_invite_guardian(
                current_user,
                case,
                email=form.email.data or "",
                relationship_label=form.relationship_label.data or "",
                household=form.household.data or "",
                has_legal_authority=form.has_legal_authority.data,
                can_consent=form.can_consent.data,
            )
        except ServiceError as exc:
            form.email.errors = [str(exc)]
        else:
            db.session.commit()  # commit point: the view's change
            flash(
                _(
                    "Invitation sent to %(email)s. The link works for 7 days.",
                    email=form.email.data,
                ),
                "success",
            )
            return redirect(url_for("cases.case_page", case_id=case.id), 303)  # type: ignore[return-value]
    return _case_page(case, invite_form=form, status=422)


@bp.post("/cases/<int:case_id>/invitations/<int:invitation_id>/revoke")
@audited("delete", invitation="invitation_id")
def revoke_invitation(case_id: int, invitation_id: int) -> Response:
    case = get_case_for(current_user, case_id)
    require("case.manage_team", case)
    invitation = get_in_case(Invitation, "invitation", case.id, invitation_id)
    if invitation.used_at is None and invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        db.session.commit()  # commit point: the view's change
        flash(_("Invitation withdrawn. The link no longer works."), "success")
    return redirect(url_for("cases.case_page", case_id=case.id), 303)  # type: ignore[return-value]


@bp.post("/cases/<int:case_id>/guardians/<int:link_id>/end")
@audited("delete", guardian_link="link_id")
def end_guardian_link(case_id: int, link_id: int) -> Response:
    case = get_case_for(current_user, case_id)
    require("case.manage_team", case)
    link = reached(
        next((lk for lk in case.guardian_links if lk.id == link_id), None), "guardian_link"
    )
    if link.valid_to is None:
        do_end_guardian_link(current_user, link)
        db.session.commit()  # commit point: the view's change
        flash(
            _(
                "%(display_name)s no longer has access to this case.",
                display_name=link.guardian.display_name,
            ),
            "success",
        )
    return redirect(url_for("cases.case_page", case_id=case.id), 303)  # type: ignore[return-value]


@bp.post("/cases/<int:case_id>/guardians/<int:link_id>/restriction")
@audited("update", guardian_link="link_id")
def set_restriction(case_id: int, link_id: int) -> Response:
    """Set or lift a household restriction (e.g. a court order) on a current guardian link."""
    case = get_case_for(current_user, case_id)
    require("case.manage_team", case)
    current = (lk for lk in case.guardian_links if lk.id == link_id and lk.valid_to is None)
    link = reached(next(current, None), "guardian_link")
    try:
        restriction = GuardianRestriction(request.form.get("restriction", ""))
    except ValueError:
        flash(_("Choose whether to keep this guardian to their own household."), "error")
        return redirect(url_for("cases.case_page", case_id=case.id), 303)  # type: ignore[return-value]
    do_set_restriction(current_user, case, link, restriction)
    db.session.commit()  # commit point: the view's change
    if restriction is GuardianRestriction.NONE:
        message = _("%(name)s sees the family thread again.", name=link.guardian.display_name)
    else:
        message = _(
            "%(name)s now sees messages of their own household only.",
            name=link.guardian.display_name,
        )
    flash(message, "success")
    return redirect(url_for("cases.case_page", case_id=case.id) + f"#restriction-{link.id}", 303)  # type: ignore[return-value]


@bp.post("/cases/<int:case_id>/therapists")
@audited("create", case="case_id")
def add_therapist(case_id: int) -> Response:
    case = get_case_for(current_user, case_id)
    require("case.manage_team", case)
    form = AddTherapistForm()
    if form.validate_on_submit():
        try:
            link = do_add_therapist(current_user, case, email=form.email.data or "")
        except ServiceError as exc:
            form.email.errors = [str(exc)]
        else:
            db.session.commit()  # commit point: the view's change
            flash(
                _("%(display_name)s joined the case.", display_name=link.therapist.display_name),
                "success",
            )
            return redirect(url_for("cases.case_page", case_id=case.id), 303)  # type: ignore[return-value]
    return _case_page(case, therapist_form=form, status=422)


@bp.post("/cases/<int:case_id>/therapists/<int:link_id>/end")
@audited("delete", care_team_link="link_id")
def remove_therapist(case_id: int, link_id: int) -> Response:
    case = get_case_for(current_user, case_id)
    require("case.manage_team", case)
    current = (lk for lk in case.therapist_links if lk.id == link_id and lk.is_current)
    link = reached(next(current, None), "care_team_link")
    try:
        do_remove_therapist(current_user, link)
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()  # commit point: the view's change
        flash(
            _(
                "%(display_name)s was removed from the case.",
                display_name=link.therapist.display_name,
            ),
            "success",
        )
    if link.therapist_id == current_user.id:
        return redirect(url_for("cases.caseload"), 303)  # type: ignore[return-value]
    return redirect(url_for("cases.case_page", case_id=case.id), 303)  # type: ignore[return-value]


def _back_to_case(user: User, case: Case) -> str:
    if user.is_therapist:
        return url_for("cases.case_page", case_id=case.id)
    return url_for("family.case_page", case_id=case.id)


@bp.route("/cases/<int:case_id>/child-account", methods=["GET", "POST"])
@audited("create", case="case_id")
def child_account(case_id: int) -> Response:
    """A guardian with consent authority, or the therapist, creates the child's own sign-in."""
    case = get_case_for(current_user, case_id)
    require("case.create_child_account", case)
    band = case.child.age_band(today())
    form = ChildAccountForm()
    if form.validate_on_submit():
        secret = form.secret.data or ""
        problem = (
            pin_problem(secret)
            if band is AgeBand.CHILD
            else password_problem(secret, sign_in_name=form.username.data or "")
        )
        if problem:
            form.secret.errors = [problem]
        elif secret != form.confirm.data:
            form.confirm.errors = [_("The two are not the same.")]
        else:
            try:
                do_create_child_account(
                    current_user, case, username=form.username.data or "", secret=secret
                )
            except ServiceError as exc:
                form.username.errors = [str(exc)]
            else:
                db.session.commit()  # commit point: the view's change
                flash(
                    _(
                        "%(first_name)s can now sign in as “%(username)s”.",
                        first_name=case.child.first_name,
                        username=form.username.data,
                    ),
                    "success",
                )
                return redirect(_back_to_case(current_user, case), 303)  # type: ignore[return-value]
    status = 422 if request.method == "POST" else 200
    return render(
        "cases/child_account.html",
        form=form,
        case=case,
        band=band,
        back=_back_to_case(current_user, case),
        status=status,
    )
