"""This request's server-side sign-in session (`AuthSession`), and the one answer to "is a young
child holding a guardian's device" (child mode, DESIGN §3). Below the rules and the gate, so
`policies` and `security` both ask here.

A background request (a poll, a live stream: `@background`) is admitted by a cheaper check that
reads plain columns (`security._background_sign_in`, issue 17) and records what it read as a
`BackgroundSignIn`; its `AuthSession` and `User` are loaded only if the request goes on to touch
`current_user`. The questions below answer from whichever the request has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import g
from flask_login import current_user

from portal import db
from portal.models import AuthSession, Role, User
from portal.models.case_rows import PlainChild


@dataclass(frozen=True, slots=True)
class Person:
    """Who is signed in, as plain values: enough to scope a query (`id`, `role`, as on `User`)."""

    id: int
    role: Role


@dataclass(frozen=True, slots=True)
class BackgroundSignIn:
    """What a background request's sign-in check read, when it admitted the session."""

    session_id: int
    person: Person
    child_mode_child_id: int | None


def background_sign_in() -> BackgroundSignIn | None:
    """The background check's answer while the request has not loaded the user's objects."""
    checked: BackgroundSignIn | None = g.get("background_sign_in")
    return checked if checked is not None and "_login_user" not in g else None


@dataclass(frozen=True, slots=True)
class SignInFacts:
    """What a page's sign-in check read of its session row (`security._load_user`), when it
    admitted it: what a page asks of the sign-in without changing it, so that its `AuthSession`
    is loaded only by a view that changes the session."""

    session_id: int
    child_mode_child_id: int | None
    password_at: datetime | None


def current_auth_session() -> AuthSession | None:
    """This request's sign-in session, as a mapped object a view may change (start or leave child
    mode, note a typed password, sign out). The sign-in check read its row as plain columns
    (`SignInFacts`); the object is loaded by its id on the first call, in the request's own
    transaction, and kept for the request."""
    _ = current_user.is_authenticated  # makes Flask-Login run the loader, which sets the facts
    auth_session: AuthSession | None = g.get("auth_session")
    if auth_session is None:
        facts: SignInFacts | None = g.get("sign_in_facts")
        if facts is not None:
            auth_session = g.auth_session = db.session.get(AuthSession, facts.session_id)
    return auth_session


def _held_sign_in() -> AuthSession | SignInFacts | None:
    """What this request holds of its sign-in row: the `AuthSession` when a view loaded it (and may
    have just changed it), else what the sign-in check read. Never queries."""
    auth_session: AuthSession | None = g.get("auth_session")
    if auth_session is not None:
        return auth_session
    facts: SignInFacts | None = g.get("sign_in_facts")
    return facts


def password_typed_at() -> datetime | None:
    """When the password was last typed in this sign-in (AU-05), without loading the session."""
    _ = current_user.is_authenticated
    held = _held_sign_in()
    return held.password_at if held is not None else None


def signed_in() -> bool:
    """Whether someone is signed in on this request. A background request answers from its
    check without loading the person (a refused check counts as signed out)."""
    if "background_sign_in" in g and "_login_user" not in g:
        return g.background_sign_in is not None
    return bool(current_user.is_authenticated)


def signed_in_person() -> User | Person:
    """The signed-in person, for scoping queries by id and role: the `User`, or on a background
    request whose check admitted them and which has not loaded them, their plain `Person`."""
    checked = background_sign_in()
    if checked is not None:
        return checked.person
    user: User = current_user._get_current_object()
    return user


def in_child_mode() -> bool:
    """Asked after the sign-in gate loaded the session (it never loads it itself, so an error
    page with the database away asks nothing of it)."""
    return bool(child_mode_child_id())


def child_mode_child_id() -> int | None:
    """The child a guardian handed the device to, if any, as this request's sign-in holds it: the
    `AuthSession` when the request loaded it (a view may have just started or left child mode),
    else what the sign-in check read. Reads only what the check left; never queries."""
    held = _held_sign_in()
    if held is not None:
        return held.child_mode_child_id
    checked: BackgroundSignIn | None = g.get("background_sign_in")
    return checked.child_mode_child_id if checked is not None else None


def child_at_screen_is(child: PlainChild) -> None:
    """A child screen that read its case as plain rows names its child here (issue 17): what the
    layout asks of the child at the screen (their age band, whether they may be in a teen thread)
    is then answered without a query, as it is from a mapped `Child` a page loaded."""
    g.child_at_screen = child


def child_named_at_screen() -> PlainChild | None:
    """The child this request's page named (`child_at_screen_is`), if it did."""
    named: PlainChild | None = g.get("child_at_screen")
    return named
