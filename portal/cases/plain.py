"""One case and its care team as plain rows (`portal.models.case_rows`), for pages that read them
and change nothing of them (issue 17: building the Case, Child, link and User objects of
`get_case_for` was ~0.3 ms a page, for a dozen columns). Found through the same scoped root as
`get_case_for` (`case_ids_visible_to`: outside the user's reach is a 404, AZ-03) and named to the
audit trail alike; the policies read these as they read the mapped objects (the same attributes,
the same rules), so `require` asks the same questions of them."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import aliased

from portal import db
from portal.audit_trail import accessed
from portal.cases.queries import case_ids_visible_to
from portal.db import utcnow
from portal.models import Case, CaseTherapist, Child, Clinic, GuardianLink, Role, User
from portal.models.case_rows import (
    ClinicZone,
    Named,
    PlainCase,
    PlainChild,
    PlainGuardianLink,
    PlainTherapistLink,
)
from portal.models.cases import shown_first_name
from portal.policies import require


def plain_case_for(user: User, case_id: int) -> PlainCase:
    """Case `case_id` as `get_case_for` finds it (404 outside the user's reach), as plain rows in
    one statement built once per role."""
    values = {"case_id": case_id, "user_id": user.id, "now": utcnow()}
    rows = db.read_columns(_plain_case_statement(user.role), values).all()
    if not rows:
        abort(404)
    case = _assembled(rows)
    accessed("case", case.id, case_id=case.id, child_id=case.child_id)
    return case


def plain_case_of_child_user(user: User) -> PlainCase | None:
    """`get_case_for_child_user` as plain rows: the newest case the signed-in child may see, with
    its team, in one statement built once (the child's tracker, issue 17)."""
    values = {"user_id": user.id, "now": utcnow()}
    rows = db.read_columns(_plain_child_user_statement(user.role), values).all()
    if not rows:
        return None
    case = _assembled(rows)
    accessed("case", case.id, case_id=case.id, child_id=case.child_id)
    return case


def require_plain_case(case_id: int, action: str) -> PlainCase:
    """`require_case` for a page that only reads the case and its team."""
    case = plain_case_for(current_user, case_id)
    require(action, case)
    return case


def _assembled(rows: Sequence[Any]) -> PlainCase:
    first = rows[0]
    therapists: dict[int, PlainTherapistLink] = {}
    guardians: dict[int, PlainGuardianLink] = {}
    for row in rows:
        if row.ct_id is not None and row.ct_id not in therapists:
            therapists[row.ct_id] = PlainTherapistLink(
                row.ct_id,
                row.therapist_id,
                row.is_primary,
                row.ended_at,
                Named(
                    row.therapist_id,
                    row.therapist_name,
                    row.therapist_role,
                    clinic=ClinicZone(row.clinic_zone) if row.clinic_zone is not None else None,
                ),
            )
        if row.gl_id is not None and row.gl_id not in guardians:
            guardians[row.gl_id] = PlainGuardianLink(
                row.gl_id,
                row.guardian_id,
                row.relationship_label,
                row.has_legal_authority,
                row.can_consent,
                row.household,
                row.restriction,
                row.valid_from,
                row.valid_to,
                Named(row.guardian_id, row.guardian_name, row.guardian_role),
            )
    child_user = (
        Named(first.child_user_id, first.child_user_name, first.child_role, first.child_username)
        if first.child_user_id is not None
        else None
    )
    child = PlainChild(
        first.child_id,
        shown_first_name(first.first_name, first.name_removed_at is not None),
        first.last_name,
        first.date_of_birth,
        first.child_user_id,
        child_user,
    )
    return PlainCase(
        first.id,
        first.child_id,
        first.status,
        child,
        tuple(therapists[key] for key in sorted(therapists)),
        tuple(guardians[key] for key in sorted(guardians)),
    )


@cache
def _plain_case_statement(role: Role) -> Select[*tuple[Any, ...]]:
    """Case `case_id` among those the person may see, with its team."""
    visible = case_ids_visible_to(role, bindparam("user_id"), bindparam("now"))
    return _case_and_team().where(Case.id == bindparam("case_id"), Case.id.in_(visible))


@cache
def _plain_child_user_statement(role: Role) -> Select[*tuple[Any, ...]]:
    """The newest case the person may see, with its team (as `get_case_for_child_user` asks)."""
    visible = case_ids_visible_to(role, bindparam("user_id"), bindparam("now"))
    newest = visible.order_by(visible.selected_columns[0].desc()).limit(1).scalar_subquery()
    return _case_and_team().where(Case.id == newest)


def _case_and_team() -> Select[*tuple[Any, ...]]:
    """The case, its child (and the child's sign-in), the therapist links (with each therapist's
    clinic time zone) and the guardian links with their people, joined: the two link lists
    multiply (a few rows for one case)."""
    child_user, therapist, guardian = aliased(User), aliased(User), aliased(User)
    return (
        select(
            Case.id,
            Case.child_id,
            Case.status,
            Child.stored_first_name.label("first_name"),
            Child.last_name,
            Child.name_removed_at,
            Child.date_of_birth,
            child_user.id.label("child_user_id"),
            child_user.display_name.label("child_user_name"),
            child_user.role.label("child_role"),
            child_user.username.label("child_username"),
            CaseTherapist.id.label("ct_id"),
            CaseTherapist.therapist_id,
            CaseTherapist.is_primary,
            CaseTherapist.ended_at,
            therapist.display_name.label("therapist_name"),
            therapist.role.label("therapist_role"),
            Clinic.timezone.label("clinic_zone"),
            GuardianLink.id.label("gl_id"),
            GuardianLink.guardian_id,
            GuardianLink.relationship_label,
            GuardianLink.has_legal_authority,
            GuardianLink.can_consent,
            GuardianLink.household,
            GuardianLink.restriction,
            GuardianLink.valid_from,
            GuardianLink.valid_to,
            guardian.display_name.label("guardian_name"),
            guardian.role.label("guardian_role"),
        )
        .join(Child, Child.id == Case.child_id)
        .outerjoin(child_user, child_user.id == Child.user_id)
        .outerjoin(CaseTherapist, CaseTherapist.case_id == Case.id)
        .outerjoin(therapist, therapist.id == CaseTherapist.therapist_id)
        .outerjoin(Clinic, Clinic.id == therapist.clinic_id)  # office hours: their time zone
        .outerjoin(GuardianLink, GuardianLink.case_id == Case.id)
        .outerjoin(guardian, guardian.id == GuardianLink.guardian_id)
    )
