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

from flask import g
from flask_login import current_user

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


def current_auth_session() -> AuthSession | None:
    _ = current_user.is_authenticated  # makes Flask-Login run the loader, which sets it
    auth_session: AuthSession | None = g.get("auth_session")
    return auth_session


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
    auth_session: AuthSession | None = g.get("auth_session")
    if auth_session is None:
        checked: BackgroundSignIn | None = g.get("background_sign_in")
        return bool(checked and checked.child_mode_child_id)
    return bool(auth_session.child_mode_child_id)


def child_at_screen_is(child: PlainChild) -> None:
    """A child screen that read its case as plain rows names its child here (issue 17): what the
    layout asks of the child at the screen (their age band, whether they may be in a teen thread)
    is then answered without a query, as it is from a mapped `Child` a page loaded."""
    g.child_at_screen = child


def child_named_at_screen() -> PlainChild | None:
    """The child this request's page named (`child_at_screen_is`), if it did."""
    named: PlainChild | None = g.get("child_at_screen")
    return named
