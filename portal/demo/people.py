"""The demo clinic's people and families, found by the names the demo gives them (the loaders
refer to "dana.m@demo.rapport.test" and "Leo", as a reader of the README does)."""

from __future__ import annotations

from sqlalchemy import select

from portal import db
from portal.models import Case, Child, User


def person(email: str) -> User:
    return db.session.scalars(select(User).where(User.email == email)).one()


def family(first_name: str) -> Case:
    """The case of the demo child with this first name (first names are unique in the demo)."""
    return db.session.scalars(
        select(Case).join(Child, Case.child_id == Child.id).where(Child.first_name == first_name)
    ).one()
