"""Accepting an invitation: the public door into a care team for a guardian."""

from __future__ import annotations

from flask import Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import db
from portal.cases.services import consent_kinds_for, do_accept_invitation, find_open_invitation
from portal.consent_documents import CONSENT_DOCUMENTS
from portal.invitations import bp
from portal.invitations.forms import AcceptInvitationForm
from portal.models import ConsentKind, Role, User
from portal.passwords import verify_secret
from portal.policies import today
from portal.security import end_session, public, start_session
from portal.web.htmx import render


@bp.route("/invite/<token>", methods=["GET", "POST"])
@public
def accept(token: str) -> Response:
    invitation = find_open_invitation(token)
    if invitation is None:
        return render("auth/link_expired.html", status=404)
    existing = db.session.scalars(select(User).where(User.email == invitation.email)).one_or_none()
    if existing is not None and existing.role is not Role.GUARDIAN:
        return render("auth/link_expired.html", status=404)
    child = invitation.case.child
    kinds = consent_kinds_for(invitation.can_consent, child.age(today()))
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        consents = {kind for kind in kinds if getattr(form, kind.value).data}
        ok = _check_credentials(form, existing)
        if ok and ConsentKind.TREATMENT in kinds and ConsentKind.TREATMENT not in consents:
            form.treatment.errors = [
                _("Treatment needs your consent. If you have questions, ask the therapist first.")
            ]
            ok = False
        if ok:
            guardian = do_accept_invitation(
                invitation,
                guardian=existing,
                display_name=form.display_name.data or "",
                password=form.new_password.data or None,
                consents=consents,
            )
            if current_user.is_authenticated:
                end_session("switched account")
            start_session(guardian)
            db.session.commit()  # commit point: the view's change
            flash(
                _("Welcome to %(first_name)s's care team.", first_name=child.first_name), "success"
            )
            return redirect(url_for("family.case_page", case_id=invitation.case_id))  # type: ignore[return-value]
    status = 422 if request.method == "POST" else 200
    return render(
        "invitations/accept_invitation.html",
        form=form,
        invitation=invitation,
        child=child,
        existing=existing,
        documents=[CONSENT_DOCUMENTS[kind] for kind in kinds],
        status=status,
    )


def _check_credentials(form: AcceptInvitationForm, existing: User | None) -> bool:
    if existing is not None:
        if not verify_secret(existing.password_hash, form.current_password.data or ""):
            form.current_password.errors = [_("That is not your Rapport password.")]
            return False
        return True
    ok = True
    if not (form.display_name.data or "").strip():
        form.display_name.errors = [_("Please tell us your name.")]
        ok = False
    if not form.new_password.data:
        form.new_password.errors = [_("Choose a password.")]
        ok = False
    elif form.new_password.data != form.confirm_password.data:
        form.confirm_password.errors = [_("The two passwords are not the same.")]
        ok = False
    return ok
