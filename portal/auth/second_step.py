"""The second sign-in step for therapists and admins (AU-08): a TOTP code, or a recovery code.

After the right password a therapist is only half signed in: the server holds a pending session
that signs nobody in (every other page answers "please sign in"), lives 10 minutes, and is
replaced by a fresh session once the code is right. Code guesses are throttled like passwords.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _

from portal import db
from portal.audit import record
from portal.auth import bp, second_factor
from portal.auth.forms import EnrolForm, SecondStepForm
from portal.auth.landing import home_for
from portal.extensions import limiter
from portal.models import AuthSession, User
from portal.security import (
    complete_second_factor,
    pending_sign_in,
    public,
    safe_next,
    start_session,
)
from portal.web.htmx import render


def begin_second_step(user: User, next_url: str | None) -> Response:
    """The password was right: hold a half sign-in on the server and ask for the code."""
    if user.totp_secret is None:  # made here, so showing the enrolment page writes nothing
        user.totp_secret = second_factor.new_secret()
    start_session(user, pending_second_factor=True)
    session["next"] = safe_next(next_url) or ""
    db.session.commit()  # commit point: the view's change
    step = "auth.second_step" if user.totp_enrolled_at else "auth.enrol"
    return redirect(url_for(step))  # type: ignore[return-value]


def _pending() -> AuthSession | None:
    if "pending_sign_in" not in g:
        g.pending_sign_in = pending_sign_in()
    pending: AuthSession | None = g.pending_sign_in
    return pending


def _code_account() -> str:
    pending = _pending()
    return f"code|{pending.user_id if pending else '-'}"


def _code_account_and_address() -> str:
    return f"{request.remote_addr}|{_code_account()}"


def refused(response: Response) -> bool:
    """A throttle counts refused answers (422) only."""
    return response.status_code == 422


def throttled_codes(view: Any) -> Any:
    """5 wrong codes a minute per account and address, 100 an hour per account (as AU-03)."""
    for rule in (
        limiter.limit(
            "5 per minute",
            key_func=_code_account_and_address,
            methods=["POST"],
            deduct_when=refused,
        ),
        limiter.limit(
            "100 per hour", key_func=_code_account, methods=["POST"], deduct_when=refused
        ),
    ):
        view = rule(view)
    return view


def _finish(pending: AuthSession) -> str:
    """Turn the half sign-in into a real one (a new token), and say where to go next."""
    target = safe_next(session.get("next")) or home_for(pending.user)
    complete_second_factor(pending)
    return target


def audit_account(action: str, user: User) -> None:
    """A security event about an account, in the audit trail (LG-02): no secret, no PHI."""
    record(db.session, action=action, actor=user, object_type="user", object_id=user.id)


@bp.route("/login/code", methods=["GET", "POST"])
@public
@throttled_codes
def second_step() -> Response:
    pending = _pending()
    if pending is None:
        return redirect(url_for("auth.login"))  # type: ignore[return-value]
    user = pending.user
    if user.totp_enrolled_at is None:
        return redirect(url_for("auth.enrol"))  # type: ignore[return-value]
    form = SecondStepForm()
    error = None
    if form.validate_on_submit():
        code = form.code.data or ""
        if second_factor.check_totp(user, code):
            target = _finish(pending)
            audit_account("login", user)
            db.session.commit()  # commit point: the view's change
            return redirect(target)  # type: ignore[return-value]
        if second_factor.use_recovery_code(user, code):
            target = _finish(pending)
            left = second_factor.recovery_codes_left(user)
            audit_account("mfa_recovery_code", user)
            audit_account("login", user)
            db.session.commit()  # commit point: the view's change
            flash(
                _(
                    "You signed in with a recovery code. %(left)d codes are left; "
                    "ask your clinic admin to reset your authenticator if you lost your phone.",
                    left=left,
                ),
                "warning",
            )
            return redirect(target)  # type: ignore[return-value]
        record(db.session, action="login", outcome="failure", object_type="user", object_id=user.id)
        db.session.commit()  # commit point: the failed code is kept, though refused (LG-02)
        error = _(
            "That code did not work. Type the newest code your app shows, or a recovery code."
        )
    status = 422 if request.method == "POST" else 200
    return render("auth/second_step.html", form=form, error=error, user=user, status=status)


@bp.route("/login/enrol", methods=["GET", "POST"])
@public
@throttled_codes
def enrol() -> Response:
    """A therapist without an authenticator yet: show the secret, confirm one code, give codes."""
    pending = _pending()
    if pending is None:
        return redirect(url_for("auth.login"))  # type: ignore[return-value]
    user = pending.user
    if user.totp_enrolled_at is not None:
        return redirect(url_for("auth.second_step"))  # type: ignore[return-value]
    if user.totp_secret is None:  # reset meanwhile: start again from the password
        return redirect(url_for("auth.login"))  # type: ignore[return-value]
    form = EnrolForm()
    error = None
    if form.validate_on_submit():
        if second_factor.check_totp(user, form.code.data or ""):
            codes = second_factor.enrol(user)
            audit_account("mfa_enrol", user)
            audit_account("login", user)
            target = _finish(pending)
            db.session.commit()  # commit point: the view's change
            return render("auth/recovery_codes.html", codes=codes, continue_to=target)
        error = _("That code did not work. Check the app shows Rapport and type its newest code.")
    status = 422 if request.method == "POST" else 200
    return render(
        "auth/enrol.html",
        form=form,
        error=error,
        user=user,
        secret=second_factor.grouped(user.totp_secret or ""),
        uri=second_factor.provisioning_uri(user),
        status=status,
    )


@bp.get("/login/enrol/qr.svg")
@public
def enrol_qr() -> Response:
    pending = _pending()
    if pending is None or pending.user.totp_enrolled_at or not pending.user.totp_secret:
        abort(404)
    return Response(second_factor.qr_svg(pending.user), mimetype="image/svg+xml")
