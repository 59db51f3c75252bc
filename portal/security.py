"""Who is signed in, and the default-deny gate in front of every view.

Every view needs a signed-in user unless it is marked @public. Sign-in state lives on the server
(auth_sessions): the cookie holds a random token only, so sign-out, a password change or an ended
guardian link end the session for good (SE-02, SE-06). Idle (30 min) and absolute (12 h) limits are
checked here on every request (SE-03, SE-04); views marked @background (polls, live updates) never
extend the idle timer, and no request parameter can change that (SE-05).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache, wraps
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_login import current_user, login_user, logout_user
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import joinedload

from portal import db
from portal.db import utcnow
from portal.extensions import htmx, login_manager
from portal.models import AuthSession, Role, User
from portal.session_cookie import RememberingSerializer
from portal.session_state import (
    BackgroundSignIn,
    Person,
    SignInFacts,
    current_auth_session,
    in_child_mode,
    password_typed_at,
)

F = TypeVar("F", bound=Callable[..., Any])


def public(view: F) -> F:
    """Mark a view as reachable without signing in."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def child_mode_allowed(view: F) -> F:
    """Mark a view as one that answers while a guardian has handed the device to a young child
    (child mode); every other view sends the child back to their own screen."""
    view.child_mode_allowed = True  # type: ignore[attr-defined]
    return view


def background(view: F) -> F:
    """Mark a view as a background request (poll, live stream): it never extends the idle timer."""
    view.is_background = True  # type: ignore[attr-defined]
    return view


def _view_flag(name: str) -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, name, False))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, *, pending_second_factor: bool = False) -> AuthSession:
    """Sign a user in on this browser. Pre-login session keys are dropped, and a sign-in this
    browser still held ends on the server too, rather than lingering for a copied cookie (SE-01).

    With `pending_second_factor` the password was right but a TOTP code is still due (AU-08): the
    session exists on the server only for the second-step pages and signs nobody in.
    """
    if previous := session.get("sid"):
        db.session.execute(
            update(AuthSession)
            .where(AuthSession.token_hash == token_hash(previous), AuthSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason="signed in again")
        )
    session.clear()
    token = secrets.token_urlsafe(32)
    auth_session = AuthSession(
        user_id=user.id,
        token_hash=token_hash(token),
        second_factor_pending=pending_second_factor,
        password_at=utcnow(),
    )
    db.session.add(auth_session)
    db.session.flush()
    session["sid"] = token
    session.permanent = True
    if not pending_second_factor:
        _signed_in(auth_session)
    return auth_session


def _signed_in(auth_session: AuthSession) -> None:
    login_user(auth_session.user, remember=False, fresh=True)
    g.auth_session = auth_session


def complete_second_factor(auth_session: AuthSession) -> None:
    """The code was right: the half sign-in becomes a real one, under a new token (SE-01)."""
    session.clear()
    token = secrets.token_urlsafe(32)
    auth_session.token_hash = token_hash(token)
    auth_session.second_factor_pending = False
    auth_session.last_active_at = utcnow()
    db.session.flush()
    session["sid"] = token
    session.permanent = True
    _signed_in(auth_session)


# Time allowed between the password and the second step.
SECOND_STEP_WINDOW = timedelta(minutes=10)
# A sensitive change (email address) wants the password typed within this time (AU-05).
FRESH_SIGN_IN = timedelta(minutes=5)


def pending_sign_in() -> AuthSession | None:
    """The half-finished sign-in of this browser (password right, second step due), if any."""
    token = session.get("sid")
    if not token:
        return None
    auth_session = db.session.scalars(
        select(AuthSession).where(
            AuthSession.token_hash == token_hash(token),
            AuthSession.ended_at.is_(None),
            AuthSession.second_factor_pending.is_(True),
        )
    ).one_or_none()
    if auth_session is None or not auth_session.user.active:
        return None
    if utcnow() - auth_session.created_at > SECOND_STEP_WINDOW:
        auth_session.ended_at = utcnow()
        auth_session.end_reason = "second step too late"
        db.session.commit()  # commit point: the sign-in check ends a second step left too late
        return None
    return auth_session


def password_recently_typed() -> bool:
    typed = password_typed_at()
    return typed is not None and utcnow() - typed <= FRESH_SIGN_IN


def fresh_sign_in_required(view: F) -> F:
    """A view for sensitive changes: without a recent password, ask for it first (AU-05)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not password_recently_typed():
            target = request.full_path if request.method == "GET" else request.path
            return redirect(url_for("auth.confirm_password", next=target))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def end_session(reason: str) -> None:
    auth_session = current_auth_session()
    if auth_session is not None and auth_session.ended_at is None:
        auth_session.ended_at = utcnow()
        auth_session.end_reason = reason
    logout_user()
    session.clear()


def end_all_sessions(user_id: int, reason: str, *, keep: AuthSession | None = None) -> None:
    """End every open session of a user (password change, disabled account, revoked link)."""
    stmt = (
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep.id)
    db.session.execute(stmt)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The person of this browser's sign-in, checked on every request from the session row read
    in the same statement (an ended, half-finished, foreign, inactive or expired sign-in is
    refused at once, SE-02, SE-03, SE-04, AU-08). The person and their clinic are mapped objects,
    as the pages use them; the session row is read as plain columns (`SignInFacts`) and loaded
    as an `AuthSession` only by a request that asks for it (`current_auth_session`: a view that
    changes it), issue 17."""
    token = session.get("sid")
    if not token:
        return None
    if "background_sign_in" in g:  # a background request, checked by the gate already
        return _load_checked_user(token, user_id)
    row = db.session.execute(
        _signed_in_statement(), {"token_hash": token_hash(token)}
    ).one_or_none()
    if row is None or _refused(row, row.User.active, user_id):
        return None
    now = utcnow()
    expired = _expiry_reason(row, now)
    if expired:
        db.will_write()
        _end_expired(row.session_id, now, expired)
        db.session.commit()  # commit point: the sign-in check ends an expired session
        g.session_expired = True
        return None
    g.sign_in_facts = SignInFacts(
        session_id=row.session_id,
        child_mode_child_id=row.child_mode_child_id,
        password_at=row.password_at,
    )
    if not _view_flag("is_background") and now - row.last_active_at > _TOUCH_EVERY:
        db.will_write()
        db.session.execute(
            update(AuthSession).where(AuthSession.id == row.session_id).values(last_active_at=now)
        )
        db.session.commit()  # commit point: the sign-in check touches last_active_at
    user: User = row.User
    return user


def _end_expired(session_id: int, now: datetime, reason: str) -> None:
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )


@cache
def _signed_in_statement() -> Select[
    User, int, int, datetime, datetime, datetime | None, bool, int | None, datetime | None
]:
    """One query, on every request, for the person, their clinic (whose time zone every page's
    dates use) and the columns of their sign-in that the check decides on: built once (on first
    use, so importing configures no mapper) and reused with the token's hash as its parameter
    (issue 17: building it was a third of the idle poll's cost). The session row as columns, not
    an object: ~12 µs less ORM work a request (the person and the clinic stay objects)."""
    return (
        select(
            User,
            AuthSession.id.label("session_id"),
            *_checked_columns(),
            AuthSession.password_at,
        )
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(AuthSession.token_hash == bindparam("token_hash"))
        .options(joinedload(User.clinic))
    )


def _checked_columns() -> tuple[Any, ...]:
    """The session row's columns both sign-in checks decide on (`_SessionFacts`) and child mode."""
    return (
        AuthSession.user_id,
        AuthSession.created_at,
        AuthSession.last_active_at,
        AuthSession.ended_at,
        AuthSession.second_factor_pending,
        AuthSession.child_mode_child_id,
    )


@cache
def _session_statement() -> Select[AuthSession]:
    """The session with its person and their clinic as objects, for a background request that
    needs the person after all (`_load_checked_user`)."""
    return (
        select(AuthSession)
        .where(AuthSession.token_hash == bindparam("token_hash"))
        .options(joinedload(AuthSession.user).joinedload(User.clinic))
    )


class _SessionFacts(Protocol):
    """What the sign-in check decides on: an `AuthSession`, or a row of its plain columns."""

    @property
    def user_id(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def last_active_at(self) -> datetime: ...
    @property
    def ended_at(self) -> datetime | None: ...
    @property
    def second_factor_pending(self) -> bool: ...


def _refused(auth_session: _SessionFacts, user_active: bool, user_id: str) -> bool:
    """An ended session, a half sign-in (no page but the second step, AU-08), another person's
    session or an inactive person: nobody is signed in."""
    return (
        auth_session.ended_at is not None
        or auth_session.second_factor_pending
        or str(auth_session.user_id) != user_id
        or not user_active
    )


def _expiry_reason(auth_session: _SessionFacts, now: datetime) -> str | None:
    if now - auth_session.last_active_at > current_app.config["IDLE_TIMEOUT"]:
        return "idle"
    if now - auth_session.created_at > current_app.config["ABSOLUTE_SESSION_LIFETIME"]:
        return "absolute"
    return None


def _background_sign_in() -> bool:
    """The sign-in check of a background request (the idle poll: most of its cost was loading the
    session, its person and their clinic as ORM objects, issue 17). The same rules as
    `_load_user` on the same session row, read as plain columns: an ended, half-finished,
    foreign, inactive or expired session is refused, an expired one ended (SE-03, SE-04), and
    nothing moves the idle clock (SE-05). What it read is kept (`BackgroundSignIn`); if the
    request then touches `current_user`, `_load_checked_user` loads the objects without
    deciding again."""
    g.background_sign_in = None
    token = session.get("sid")
    user_id = session.get("_user_id")  # where Flask-Login keeps who signed in
    if not token or user_id is None:
        return False
    if request.method in _READS:
        db.read_without_transaction()
    row = db.read_columns(_background_statement(), {"token_hash": token_hash(token)}).one_or_none()
    if row is None or _refused(row, row.user_active, user_id):
        return False
    now = utcnow()
    expired = _expiry_reason(row, now)
    if expired:
        db.will_write()
        _end_expired(row.id, now, expired)
        db.session.commit()  # commit point: the sign-in check ends an expired session
        g.session_expired = True
        return False
    g.background_sign_in = BackgroundSignIn(
        session_id=row.id,
        person=Person(id=row.user_id, role=row.user_role),
        child_mode_child_id=row.child_mode_child_id,
    )
    return True


_READS = frozenset({"GET", "HEAD"})


@cache
def _background_statement() -> Select[
    int, int, datetime, datetime, datetime | None, bool, int | None, bool, Role
]:
    return (
        select(
            AuthSession.id,
            *_checked_columns(),
            User.active.label("user_active"),
            User.role.label("user_role"),
        )
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == bindparam("token_hash"))
    )


def _load_checked_user(token: str, user_id: str) -> User | None:
    """A background request that needs the person after all (the poll found news): their objects,
    for the session the gate's check admitted in this request (nobody, if it refused)."""
    checked: BackgroundSignIn | None = g.background_sign_in
    if checked is None or str(checked.person.id) != user_id:
        return None
    auth_session = db.session.scalars(
        _session_statement(), {"token_hash": token_hash(token)}
    ).one_or_none()
    if auth_session is None or auth_session.id != checked.session_id:
        return None
    g.auth_session = auth_session
    return auth_session.user


# Writing last_active_at on every click is wasteful; a minute of slack on 30 is harmless.
_TOUCH_EVERY = timedelta(seconds=60)


def safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after sign-in (AU-10)."""
    if not target:
        return None
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return None
    return target


def _please_sign_in() -> Response:
    expired = bool(g.get("session_expired"))
    login_url = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    if expired:
        login_url = url_for("auth.login", expired=1)
    if htmx:
        response = Response("Please sign in again.", status=401)
        response.headers["HX-Redirect"] = login_url
        return response
    return redirect(login_url)  # type: ignore[return-value]


# Set at sign-in when a guardian had withdrawn the terms of use (DESIGN §9): until they agree
# again, every page leads to the terms (signing out and changing language still work).
TERMS_DUE = "terms_due"
TERMS_ENDPOINTS = frozenset({"family.agree_terms", "auth.logout", "auth.set_language"})


def _gate() -> Response | None:
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None  # 404s and static files
    view = current_app.view_functions.get(endpoint)
    if getattr(view, "is_public", False):
        return None
    if getattr(view, "is_background", False):
        admitted = _background_sign_in()
    else:
        admitted = current_user.is_authenticated
    if not admitted:
        return _please_sign_in()
    if in_child_mode() and not getattr(view, "child_mode_allowed", False):
        if htmx:
            response = Response(status=204)
            response.headers["HX-Redirect"] = url_for("child.home")
            return response
        return redirect(url_for("child.home"))  # type: ignore[return-value]
    if session.get(TERMS_DUE) and endpoint not in TERMS_ENDPOINTS:
        return redirect(url_for("family.agree_terms"))  # type: ignore[return-value]
    return None


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'",
    )
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
        headers.add("Vary", "HX-Request")
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


class _SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie, re-sent on every answer to keep its expiry sliding, except on
    background requests (polls, live updates): they never extend the sign-in (SE-05), so neither
    do they re-sign and re-send the cookie unless they changed it (issue 17: ~12 % of the idle
    poll's CPU). A static file neither sends the cookie nor varies on it: it depends on nobody's
    sign-in, and the browser keeps it across pages whose cookie was re-signed
    (portal/web/static_files.py)."""

    _signing: tuple[object, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer for the cookie, made once per secret (and fallbacks) instead of
        twice a request, reading and writing the cookie (issue 17: making one runs a trial
        JSON dump). A changed secret makes a new one; the cookie is the same."""
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        signing = self._signing
        if signing is None or signing[0] != key:
            signing = self._signing = (key, self._serializer(app))
        return signing[1]

    def _serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's own serializer (its keys, salt, JSON and signer), as the kind that keeps each
        payload it wrote or read (`portal/session_cookie.py`): the cookie's bytes are the same."""
        made = super().get_signing_serializer(app)
        if made is None:
            return None
        return RememberingSerializer(
            made.secret_keys,
            salt=made.salt,
            serializer=made.serializer,
            serializer_kwargs=made.serializer_kwargs,
            signer=made.signer,
            signer_kwargs=made.signer_kwargs,
            fallback_signers=made.fallback_signers,
        )

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if not session.modified and _view_flag("is_background"):
            return False
        return super().should_set_cookie(app, session)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if request.endpoint == "static":
            return
        super().save_session(app, session, response)


def init_security(app: Flask) -> None:
    app.session_interface = _SessionCookies()
    login_manager.session_protection = None  # our own server-side sessions do this job
    login_manager.login_view = "auth.login"
    app.before_request(_gate)
    app.after_request(_security_headers)
