"""This request's server-side sign-in session (`AuthSession`), and the one answer to "is a young
child holding a guardian's device" (child mode, DESIGN §3). Below the rules and the gate, so
`policies` and `security` both ask here."""

from __future__ import annotations

from flask import g
from flask_login import current_user

from portal.models import AuthSession


def current_auth_session() -> AuthSession | None:
    _ = current_user.is_authenticated  # makes Flask-Login run the loader, which sets it
    auth_session: AuthSession | None = g.get("auth_session")
    return auth_session


def in_child_mode() -> bool:
    """Asked after the sign-in gate loaded the session (it never loads it itself, so an error
    page with the database away asks nothing of it)."""
    auth_session: AuthSession | None = g.get("auth_session")
    return bool(auth_session and auth_session.child_mode_child_id)
