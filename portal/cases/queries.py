"""Scoped reads: every case a view touches is loaded through here, so a case outside the user's
reach is simply not found (404), exactly like one that does not exist (AZ-03, AZ-13)."""

from __future__ import annotations

from flask import abort
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from portal import db
from portal.db import utcnow
from portal.models import Case, CaseTherapist, Child, GuardianLink, User


def visible_case_ids(user: User) -> Select[int]:
    now = utcnow()
    if user.is_therapist:
        return select(CaseTherapist.case_id).where(
            CaseTherapist.therapist_id == user.id, CaseTherapist.ended_at.is_(None)
        )
    if user.is_guardian:
        return select(GuardianLink.case_id).where(
            GuardianLink.guardian_id == user.id,
            GuardianLink.valid_from <= now,
            or_(GuardianLink.valid_to.is_(None), GuardianLink.valid_to > now),
        )
    return select(Case.id).join(Child, Case.child_id == Child.id).where(Child.user_id == user.id)


def _with_team(stmt: Select[Case]) -> Select[Case]:
    return stmt.options(
        selectinload(Case.child),
        selectinload(Case.therapist_links).selectinload(CaseTherapist.therapist),
        selectinload(Case.guardian_links).selectinload(GuardianLink.guardian),
    )


def cases_for(user: User) -> list[Case]:
    stmt = _with_team(select(Case).where(Case.id.in_(visible_case_ids(user)))).order_by(Case.id)
    return list(db.session.scalars(stmt).unique())


def get_case_for(user: User, case_id: int) -> Case:
    stmt = _with_team(select(Case).where(Case.id == case_id, Case.id.in_(visible_case_ids(user))))
    case = db.session.scalars(stmt).unique().one_or_none()
    if case is None:
        abort(404)
    return case


def get_case_for_child_user(user: User) -> Case | None:
    stmt = _with_team(select(Case).where(Case.id.in_(visible_case_ids(user)))).order_by(
        Case.id.desc()
    )
    return db.session.scalars(stmt).unique().first()
