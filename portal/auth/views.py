"""Signing in and out, password changes, and the role-based home redirect."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Response, abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import audit, db
from portal.auth import bp
from portal.auth.forms import (
    ChangePasswordForm,
    KidsLoginForm,
    LanguageForm,
    LoginForm,
    SetPasswordForm,
)
from portal.auth.landing import home_for
from portal.auth.second_step import begin_second_step
from portal.cases.queries import get_case_for_child_user
from portal.db import utcnow
from portal.extensions import limiter
from portal.i18n import LANGUAGE_COOKIE, LANGUAGES, chosen_language, language_of
from portal.i18n import lazy_gettext as _l
from portal.models import AccountToken, Credential, Role, User
from portal.ops.outbox import queue_email
from portal.passwords import hash_secret, password_problem, pin_problem, verify_secret
from portal.policies import child_data_allowed
from portal.security import (
    TERMS_DUE,
    child_mode_allowed,
    end_all_sessions,
    end_session,
    public,
    safe_next,
    start_session,
    token_hash,
)
from portal.session_state import current_auth_session
from portal.web.htmx import render


def _account_tried() -> str:
    """The sign-in name typed, normalised: throttling counts failures per account (AU-03)."""
    return (request.form.get("email") or request.form.get("username") or "").strip().lower()


def _account_and_address() -> str:
    return f"{request.remote_addr}|{_account_tried()}"


def _failed(response: Response) -> bool:
    return response.status_code != 302


# Only failed attempts count, and a throttled account is refused even with the right secret.
# 5 a minute per account and address; a hard ceiling of 100 an hour per account from anywhere.
throttle_sign_in = [
    limiter.limit(
        "5 per minute", key_func=_account_and_address, methods=["POST"], deduct_when=_failed
    ),
    limiter.limit("100 per hour", key_func=_account_tried, methods=["POST"], deduct_when=_failed),
]


def throttled(view: Any) -> Any:
    for rule in throttle_sign_in:
        view = rule(view)
    return view


SIGN_IN_FAILED = _l("That sign-in did not work. Check your details and try again.")


def _record_sign_in(user: User | None, succeeded: bool) -> None:
    """LG-02: every sign-in attempt that got as far as checking a secret. Only the account's id
    is kept (when the name matched one), never what was typed."""
    audit.record(
        db.session,
        action="login",
        outcome="success" if succeeded else "failure",
        object_type="user",
        object_id=user.id if user else None,
        actor=user if succeeded else None,
    )
    if not succeeded:
        db.session.commit()  # commit point: the view's change


@bp.get("/")
def home() -> Response:
    return redirect(home_for(current_user))  # type: ignore[return-value]


def _terms_withdrawn(user: User) -> bool:
    from portal.family.consent import terms_withdrawn_cases

    return bool(terms_withdrawn_cases(user))


@bp.route("/login", methods=["GET", "POST"])
@public
@throttled
def login() -> Response:
    if current_user.is_authenticated and request.method != "POST":
        return redirect(home_for(current_user))  # type: ignore[return-value]
    form = LoginForm()
    if request.method != "POST":
        form.next.data = request.args.get("next", "")
    error = None
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        user = db.session.scalars(
            select(User).where(User.email == email, User.role != Role.CHILD)
        ).one_or_none()
        # Always verify a hash, so an unknown email takes as long as a wrong password (AU-04).
        ok = verify_secret(user.password_hash if user else None, form.password.data or "")
        if user is not None and ok and user.active:
            if user.needs_second_factor:
                return begin_second_step(user, form.next.data)
            start_session(user)
            _record_sign_in(user, True)
            db.session.commit()  # commit point: the view's change
            if user.is_guardian and _terms_withdrawn(user):
                session[TERMS_DUE] = True
                return redirect(url_for("family.agree_terms"))  # type: ignore[return-value]
            return redirect(safe_next(form.next.data) or home_for(user))  # type: ignore[return-value]
        _record_sign_in(user, False)
        error = SIGN_IN_FAILED
    status = 200 if request.method != "POST" or (not error and not form.errors) else 422
    return render(
        "auth/login.html",
        form=form,
        error=error,
        expired=request.args.get("expired") == "1",
        status=status,
    )


@bp.route("/login/kids", methods=["GET", "POST"])
@public
@throttled
def kids_login() -> Response:
    if current_user.is_authenticated and request.method != "POST":
        return redirect(home_for(current_user))  # type: ignore[return-value]
    form = KidsLoginForm()
    error = None
    if form.validate_on_submit():
        username = (form.username.data or "").strip().lower()
        user = db.session.scalars(
            select(User).where(User.username == username, User.role == Role.CHILD)
        ).one_or_none()
        ok = verify_secret(user.password_hash if user else None, form.secret.data or "")
        if user is not None and ok and user.active:
            case = get_case_for_child_user(user)
            if case is None or not child_data_allowed(case):
                _record_sign_in(user, False)
                error = _(
                    "Your account is not ready yet. Your therapist or a parent can finish "
                    "setting it up."
                )
            else:
                start_session(user)
                _record_sign_in(user, True)
                db.session.commit()  # commit point: the view's change
                return redirect(url_for("child.home"))  # type: ignore[return-value]
        else:
            _record_sign_in(user, False)
            error = _(
                "That username and PIN or password don't match. Try again, or ask your "
                "therapist or a parent to reset it."
            )
    status = 422 if request.method == "POST" else 200
    return render("auth/kids_login.html", form=form, error=error, status=status)


@bp.post("/logout")
@child_mode_allowed
def logout() -> Response:
    audit.record(db.session, action="logout", object_type="user", object_id=current_user.id)
    end_session("signed out")
    db.session.commit()  # commit point: the view's change
    response = redirect(url_for("auth.login", signed_out=1))
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response  # type: ignore[return-value]


def _new_secret_problem(user: User, secret: str) -> str | None:
    if user.credential is Credential.PIN:
        return pin_problem(secret)
    return password_problem(secret, sign_in_name=user.sign_in_name, staff=user.is_therapist)


def notify_account_change(user: User, what: str) -> None:
    """Tell the person their account changed (AU-05), without any health information."""
    if not user.email:
        return
    queue_email(
        to=user.email,
        subject=_("Your Rapport account was changed"),
        body=_(
            "Hello %(name)s,\n\n%(what)s If this was not you, contact your clinic today.\n",
            name=user.display_name,
            what=what,
        ),
        dedupe_key=f"account-change:{user.id}:{secrets.token_hex(8)}",
    )


@bp.route("/account/password", methods=["GET", "POST"])
def change_password() -> Response:
    user: User = current_user
    form = ChangePasswordForm()
    if user.is_therapist:
        form.new_password.description = _("At least 15 characters. A short phrase works well.")
    if user.credential is Credential.PIN:
        form.new_password.description = _("4 to 6 numbers.")
    if form.validate_on_submit():
        if not verify_secret(user.password_hash, form.current_password.data or ""):
            form.current_password.errors = [_("That is not your current password.")]
        elif problem := _new_secret_problem(user, form.new_password.data or ""):
            form.new_password.errors = [problem]
        else:
            user.password_hash = hash_secret(form.new_password.data or "")
            user.password_changed_at = utcnow()
            # Every other browser signed in as this person is signed out now (SE-06).
            end_all_sessions(user.id, "password changed", keep=current_auth_session())
            audit.record(
                db.session, action="password_change", object_type="user", object_id=user.id
            )
            notify_account_change(user, _("The password of your Rapport account was changed."))
            db.session.commit()  # commit point: the view's change
            flash(_("Your password is changed. Other devices have been signed out."), "success")
            return redirect(home_for(user))  # type: ignore[return-value]
    status = 422 if form.errors or request.method == "POST" else 200
    return render("auth/change_password.html", form=form, status=status)


def their_language(user: User) -> str | None:
    """The language the page of a link mailed to `user` speaks: the one its mail was written in
    (the person's own), unless this browser or whoever is signed in here chose one; None follows
    the browser."""
    if chosen_language() is not None or user.language not in LANGUAGES:
        return None
    return user.language


@contextmanager
def in_their_language(user: User) -> Iterator[None]:
    if their_language(user) is None:
        yield
    else:
        with language_of(user):
            yield


def to_sign_in(user: User) -> Response:
    """After the link is used: to the sign-in page, which (with its message) stays in the same
    language, because this browser remembers it as the language picker does."""
    response: Response = redirect(url_for("auth.login"))  # type: ignore[assignment]
    if (language := their_language(user)) is not None:
        remember_language(response, language)
    return response


def remember_language(response: Response, language: str) -> None:
    """This browser keeps `language` for a year, signed in or not (the language picker)."""
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )


def usable_token(token: str, purpose: str) -> AccountToken:
    """The unused, unexpired account link (setup, reset, email change) behind `token`. Any other
    link, including one made for another purpose, ends the request with the "link expired" page
    (404): it says no more than that, whether the link never existed, was used or ran out."""
    account_token = db.session.scalars(
        select(AccountToken).where(
            AccountToken.token_hash == token_hash(token), AccountToken.purpose == purpose
        )
    ).one_or_none()
    if account_token is None or account_token.used_at or account_token.expires_at <= utcnow():
        abort(render("auth/link_expired.html", status=404))
    return account_token


def set_password_by_link(account_token: AccountToken, password: str, reason: str) -> User:
    """The new password chosen through a one-time link (account setup, reset): saved, the link
    used up, and every session of the account ended for `reason`. The caller audits and commits."""
    user = account_token.user
    user.password_hash = hash_secret(password)
    user.password_changed_at = utcnow()
    account_token.used_at = utcnow()
    end_all_sessions(user.id, reason)
    return user


@bp.route("/account/setup/<token>", methods=["GET", "POST"])
@public
def setup_account(token: str) -> Response:
    account_token = usable_token(token, "setup")
    form = SetPasswordForm()
    if form.validate_on_submit():
        user = account_token.user
        if problem := _new_secret_problem(user, form.new_password.data or ""):
            form.new_password.errors = [problem]
        else:
            set_password_by_link(account_token, form.new_password.data or "", "password set")
            audit.record(
                db.session, action="password_set", object_type="user", object_id=user.id, actor=user
            )
            if user.needs_second_factor:  # a new therapist sets up the second step next (AU-08)
                response = begin_second_step(user, None)
            else:
                start_session(user)
                db.session.commit()  # commit point: the view's change
                response = redirect(home_for(user))  # type: ignore[assignment]
            flash(_("Your password is set. Welcome to Rapport."), "success")
            return response
    status = 422 if request.method == "POST" else 200
    return render("auth/setup_account.html", form=form, user=account_token.user, status=status)


@bp.post("/language")
@public
def set_language() -> Response:
    """The language picker: saved on the account when signed in, else on this browser (a cookie)."""
    form = LanguageForm()
    back = safe_next(form.next.data) or url_for("auth.home")
    if not form.validate_on_submit():
        flash(_("Choose a language from the list."), "error")
        return redirect(back, 303)  # type: ignore[return-value]
    language = form.language.data or None
    response = redirect(back, 303)
    if current_user.is_authenticated:
        current_user.language = language
        db.session.commit()  # commit point: the view's change
    if language:
        remember_language(response, language)  # type: ignore[arg-type]
    else:
        response.delete_cookie(LANGUAGE_COOKIE)
    return response  # type: ignore[return-value]
