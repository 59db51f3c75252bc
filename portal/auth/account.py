"""Account changes that need care (AU-05) and the forgotten-password flow (AU-04, AU-06).

A reset link is a 256-bit random token (`secrets.token_urlsafe(32)`), kept only as its SHA-256
hash, single use, valid for one hour, and never written to a log. Asking for one answers the same
whether or not the address has an account, after the same work. A reset ends every session of the
account. Changing the email address (portal/auth/email_change.py) needs the password typed within
the last five minutes and a confirmation from the new address.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Response, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import db
from portal.auth import bp
from portal.auth.forms import (
    ConfirmPasswordForm,
    ForgotPasswordForm,
    SetPasswordForm,
)
from portal.auth.landing import home_for
from portal.auth.second_step import audit_account, refused
from portal.auth.views import (
    _new_secret_problem,
    in_their_language,
    notify_account_change,
    set_password_by_link,
    to_sign_in,
    usable_token,
)
from portal.db import utcnow
from portal.extensions import limiter
from portal.i18n import language_of
from portal.models import AccountToken, Role, User
from portal.ops.outbox import queue_email
from portal.passwords import verify_secret
from portal.security import (
    public,
    safe_next,
    token_hash,
)
from portal.session_state import current_auth_session
from portal.web.htmx import render

RESET_TTL = timedelta(hours=1)
RESET = "reset"


def _confirming_account() -> str:
    return f"confirm|{current_user.get_id()}"


@bp.route("/account/confirm", methods=["GET", "POST"])
@limiter.limit(
    "5 per minute",
    key_func=_confirming_account,
    methods=["POST"],
    deduct_when=refused,
)
def confirm_password() -> Response:
    """Type the password again before a sensitive change (AU-05)."""
    user: User = current_user
    form = ConfirmPasswordForm()
    if request.method != "POST":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        if verify_secret(user.password_hash, form.password.data or ""):
            auth_session = current_auth_session()
            assert auth_session is not None
            auth_session.password_at = utcnow()
            db.session.commit()  # commit point: the view's change
            return redirect(safe_next(form.next.data) or home_for(user))  # type: ignore[return-value]
        form.password.errors = [_("That is not your password.")]
    status = 422 if request.method == "POST" else 200
    return render("auth/confirm_password.html", form=form, status=status)


def _reset_link(token: str) -> str:
    base = current_app.config["PORTAL_BASE_URL"].rstrip("/")
    return f"{base}{url_for('auth.reset_password', token=token)}"


def _by_address() -> str:
    return f"forgot|{request.remote_addr}"


@bp.route("/account/forgot", methods=["GET", "POST"])
@public
@limiter.limit("10 per hour", key_func=_by_address, methods=["POST"])
def forgot_password() -> Response:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        user = db.session.scalars(
            select(User).where(User.email == email, User.role != Role.CHILD, User.active)
        ).one_or_none()
        # The same work for an unknown address: a token made and hashed, a mail composed (AU-04).
        token = secrets.token_urlsafe(32)
        hashed = token_hash(token)
        body = _(
            "Hello,\n\nSomeone asked to reset the password for this address on Rapport. To choose "
            "a new password, open this link within one hour:\n\n%(link)s\n\nIf it was not you, "
            "ignore this email: your password stays as it is.\n",
            link=_reset_link(token),
        )
        if user is not None:
            db.session.add(
                AccountToken(
                    user_id=user.id,
                    purpose=RESET,
                    token_hash=hashed,
                    expires_at=utcnow() + RESET_TTL,
                )
            )
            queue_email(
                to=email,
                subject=_("Reset your Rapport password"),
                body=body,
                dedupe_key=f"reset:{hashed}",
            )
            db.session.commit()  # commit point: the view's change
        flash(
            _(
                "If that address has a Rapport account, a link to reset the password is on its "
                "way. It works for one hour."
            ),
            "success",
        )
        return redirect(url_for("auth.login"))  # type: ignore[return-value]
    status = 422 if request.method == "POST" else 200
    return render("auth/forgot_password.html", form=form, status=status)


@bp.route("/account/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str) -> Response:
    account_token = usable_token(token, RESET)
    user = account_token.user
    form = SetPasswordForm()
    with in_their_language(user):
        if user.is_therapist:
            form.new_password.description = _("At least 15 characters. A short phrase works well.")
        if form.validate_on_submit():
            if problem := _new_secret_problem(user, form.new_password.data or ""):
                form.new_password.errors = [problem]
            else:
                set_password_by_link(account_token, form.new_password.data or "", "password_reset")
                with language_of(user):  # the notice is written in its reader's language
                    notify_account_change(
                        user, _("The password of your Rapport account was reset.")
                    )
                audit_account("password_reset", user)
                db.session.commit()  # commit point: the view's change
                flash(_("Your password is changed. Sign in with it now."), "success")
                return to_sign_in(user)
        status = 422 if request.method == "POST" else 200
        return render("auth/reset_password.html", form=form, user=user, status=status)
