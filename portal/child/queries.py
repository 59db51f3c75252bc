"""Whose screen is this: the case of the child at the device, a child signed in or a young child
in child mode on a guardian's sign-in. Every child-screen view loads its case through here."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, bindparam, select

from portal import db
from portal.cases.plain import plain_case_for, plain_case_of_child_user
from portal.cases.queries import case_ids_visible_to, get_case_for, get_case_for_child_user
from portal.db import utcnow
from portal.models import Case, Role, User
from portal.models.case_rows import AnyCase, PlainCase
from portal.policies import child_data_allowed, require
from portal.session_state import child_at_screen_is, current_auth_session

C = TypeVar("C", bound=AnyCase)


def _child_mode_case_id(user: User) -> int | None:
    """The case of the child a guardian handed the device to (None outside child mode)."""
    auth_session = current_auth_session()
    if auth_session is None or auth_session.child_mode_child_id is None:
        return None
    values = {
        "child_id": auth_session.child_mode_child_id,
        "user_id": user.id,
        "now": utcnow(),
    }
    case_id = db.session.scalars(_child_mode_statement(user.role), values).first()
    if case_id is None:  # the guardian's link ended while in child mode
        db.will_write()
        auth_session.child_mode_child_id = None
        db.session.commit()  # commit point: child mode ends with the link, before the 404
        abort(404)
    return case_id


@cache
def _child_mode_statement(role: Role) -> Select[int]:
    """The case of the child in child mode among those the guardian may see, built once per role
    (issue 17: every screen a young child uses asks it), the child, the person and the moment
    bound."""
    visible = case_ids_visible_to(role, bindparam("user_id"), bindparam("now"))
    return select(Case.id).where(Case.child_id == bindparam("child_id"), Case.id.in_(visible))


def case_for_child_screen() -> Case:
    """The case whose child is at the screen: the child signed in, or a child in child mode."""
    return _child_screen_case(get_case_for_child_user, get_case_for)


def plain_case_for_child_screen() -> PlainCase:
    """`case_for_child_screen` as plain rows, for a screen that changes nothing of the case or
    its team (issue 17: the tracker). The layout learns the child at the screen from it, as it
    finds a mapped child in the session otherwise."""
    case = _child_screen_case(plain_case_of_child_user, plain_case_for)
    child_at_screen_is(case.child)
    return case


def _child_screen_case(
    of_child_user: Callable[[User], C | None], by_id: Callable[[User, int], C]
) -> C:
    """The case of the child signed in (`of_child_user`) or in child mode (`by_id`), with the
    same checks whichever kind of case they read."""
    user: User = current_user._get_current_object()
    if user.is_child:
        case = of_child_user(user)
        if case is None:
            abort(404)
        require("child.view_own_screen", case)
        if not child_data_allowed(case):  # consent withdrawn since sign-in (CO-01)
            abort(404)
        return case
    if user.is_guardian:
        case_id = _child_mode_case_id(user)
        if case_id is not None:
            return by_id(user, case_id)
    abort(404)


def require_child_case(action: str) -> Case:
    """The case of the child at the screen, when they may `action` on it; else 404."""
    case = case_for_child_screen()
    require(action, case)
    return case


def require_plain_child_case(action: str) -> PlainCase:
    """`require_child_case` as plain rows (`plain_case_for_child_screen`)."""
    case = plain_case_for_child_screen()
    require(action, case)
    return case
