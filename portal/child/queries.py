"""Whose screen is this: the case of the child at the device, a child signed in or a young child
in child mode on a guardian's sign-in. Every child-screen view loads its case through here."""

from __future__ import annotations

from functools import cache

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, bindparam, select

from portal import db
from portal.cases.queries import case_ids_visible_to, get_case_for, get_case_for_child_user
from portal.db import utcnow
from portal.models import Case, Role
from portal.policies import child_data_allowed, require
from portal.session_state import current_auth_session


def _child_mode_case() -> Case | None:
    auth_session = current_auth_session()
    if auth_session is None or auth_session.child_mode_child_id is None:
        return None
    values = {
        "child_id": auth_session.child_mode_child_id,
        "user_id": current_user.id,
        "now": utcnow(),
    }
    case_id = db.session.scalars(_child_mode_statement(current_user.role), values).first()
    if case_id is None:  # the guardian's link ended while in child mode
        auth_session.child_mode_child_id = None
        db.session.commit()  # commit point: child mode ends with the link, before the 404
        abort(404)
    return get_case_for(current_user, case_id)


@cache
def _child_mode_statement(role: Role) -> Select[int]:
    """The case of the child in child mode among those the guardian may see, built once per role
    (issue 17: every screen a young child uses asks it), the child, the person and the moment
    bound."""
    visible = case_ids_visible_to(role, bindparam("user_id"), bindparam("now"))
    return select(Case.id).where(Case.child_id == bindparam("child_id"), Case.id.in_(visible))


def case_for_child_screen() -> Case:
    """The case whose child is at the screen: the child signed in, or a child in child mode."""
    if current_user.is_child:
        case = get_case_for_child_user(current_user)
        if case is None:
            abort(404)
        require("child.view_own_screen", case)
        if not child_data_allowed(case):  # consent withdrawn since sign-in (CO-01)
            abort(404)
        return case
    if current_user.is_guardian:
        child_mode_case = _child_mode_case()
        if child_mode_case is not None:
            return child_mode_case
    abort(404)


def require_child_case(action: str) -> Case:
    """The case of the child at the screen, when they may `action` on it; else 404."""
    case = case_for_child_screen()
    require(action, case)
    return case
