"""Scoped reads of the audit trail. A fixed number of queries whatever the page holds: the rows
come with their actor's and child's names in one joined query, plus one count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, union
from sqlalchemy.orm import aliased

from portal import db
from portal.labels import label
from portal.models import AuditLog, Case, Child, GuardianLink, User
from portal.models.cases import shown_first_name

PER_PAGE = 50


@cache
def _actor() -> Any:
    """The acting person, a second User in the report's query. Made on first use: an alias
    configures every mapper, ~115 ms that `import wsgi` need not pay (issue 17)."""
    return aliased(User, name="actor")


# The report sorts only by these: a request names a key, never a column (IN-01). "user" is the
# actor's name, looked up when sorting (see _actor).
SORTS: dict[str, Any] = {
    "time": AuditLog.id,
    "user": None,
    "role": AuditLog.actor_role,
    "child": Child.first_name,
    "action": AuditLog.action,
    "object": AuditLog.object_type,
    "outcome": AuditLog.outcome,
    "address": AuditLog.source_ip,
    "request": AuditLog.request_id,
}
DEFAULT_SORT = "time"
# Actions that show a person looked at or changed the record (not sign-ins or refusals).
RECORD_ACTIONS = ("read", "print", "export", "create", "update", "delete")


@dataclass(frozen=True)
class Page:
    entries: list[Any]  # rows of (AuditLog, actor name or None, child first name or None)
    number: int
    pages: int
    total: int


def clinic_children(clinic_id: int) -> Select[Any]:
    return select(Child.id).where(Child.clinic_id == clinic_id)


def clinic_people(clinic_id: int) -> Any:
    """Everybody whose sign-in belongs with this clinic: its therapists, the guardians of its
    cases and its children."""
    return union(
        select(User.id).where(User.clinic_id == clinic_id),
        select(GuardianLink.guardian_id)
        .join(Case, GuardianLink.case_id == Case.id)
        .where(Case.clinic_id == clinic_id),
        select(Child.user_id).where(Child.clinic_id == clinic_id, Child.user_id.is_not(None)),
    )


def _in_clinic(clinic_id: int) -> ColumnElement[bool]:
    """A row about one of the clinic's children, or a row about no child (a sign-in) by or about
    one of the clinic's people. Another clinic's children never show, even for a shared guardian."""
    people = clinic_people(clinic_id).subquery()
    return or_(
        AuditLog.child_id.in_(clinic_children(clinic_id)),
        and_(
            AuditLog.child_id.is_(None),
            or_(
                AuditLog.actor_id.in_(select(people.c.id)),
                and_(AuditLog.object_type == "user", AuditLog.object_id.in_(select(people.c.id))),
            ),
        ),
    )


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _paged(stmt: Select[Any], count_stmt: Select[Any], page: int) -> Page:
    total = int(db.session.scalar(count_stmt) or 0)
    pages = max(1, -(-total // PER_PAGE))
    number = min(max(page, 1), pages)
    rows = db.session.execute(stmt.limit(PER_PAGE).offset((number - 1) * PER_PAGE))
    entries = [
        (entry, actor, None if child is None else shown_first_name(child, removed is not None))
        for entry, actor, child, removed in rows
    ]
    return Page(entries, number, pages, total)


def _with_names(*conditions: ColumnElement[bool]) -> Select[Any]:
    return (
        select(AuditLog, _actor().display_name, Child.first_name, Child.name_removed_at)
        .outerjoin(_actor(), _actor().id == AuditLog.actor_id)
        .outerjoin(Child, Child.id == AuditLog.child_id)
        .where(*conditions)
    )


def clinic_report(
    clinic_id: int,
    timezone: str,
    *,
    date_from: date | None,
    date_to: date | None,
    user_id: int | None,
    child_id: int | None,
    sort: str,
    descending: bool,
    page: int,
) -> Page:
    zone = ZoneInfo(timezone)
    conditions = [_in_clinic(clinic_id)]
    if date_from is not None:
        conditions.append(AuditLog.created_at >= _day_start(date_from, zone))
    if date_to is not None:
        conditions.append(AuditLog.created_at < _day_start(date_to + timedelta(days=1), zone))
    if user_id is not None:
        conditions.append(AuditLog.actor_id == user_id)
    if child_id is not None:
        conditions.append(AuditLog.child_id == child_id)
    column = _actor().display_name if sort == "user" else SORTS.get(sort, SORTS[DEFAULT_SORT])
    order = column.desc() if descending else column.asc()
    tiebreak = AuditLog.id.desc() if descending else AuditLog.id.asc()
    stmt = _with_names(*conditions).order_by(order.nulls_last(), tiebreak)
    count_stmt = select(func.count(AuditLog.id)).where(*conditions)
    return _paged(stmt, count_stmt, page)


def people_choices(clinic_id: int) -> list[tuple[int, str]]:
    people = clinic_people(clinic_id).subquery()
    rows = db.session.execute(
        select(User.id, User.display_name, User.role)
        .where(User.id.in_(select(people.c.id)))
        .order_by(User.display_name, User.id)
    )
    return [(uid, f"{name} ({label(role)})") for uid, name, role in rows]


def child_choices(clinic_id: int) -> list[tuple[int, str]]:
    """First name and record number: enough to pick a child, without the family's surname
    (the admin is not on every care team: minimum necessary)."""
    rows = db.session.execute(
        select(Child.id, Child.first_name, Child.name_removed_at)
        .where(Child.clinic_id == clinic_id)
        .order_by(Child.first_name, Child.id)
    )
    return [
        (cid, f"{shown_first_name(first, removed is not None)} (#{cid})")
        for cid, first, removed in rows
    ]


def record_views(
    case: Case, viewer: User, *, page: int, visible_threads: Select[Any] | None
) -> Page:
    """Who looked at or changed this child's record, newest first. A guardian's list leaves out
    message threads that are not theirs (another household's or the teen's own)."""
    conditions: list[ColumnElement[bool]] = [
        AuditLog.child_id == case.child_id,
        AuditLog.outcome == "success",
        AuditLog.action.in_(RECORD_ACTIONS),
        AuditLog.object_type != "record_views",
    ]
    if visible_threads is not None:
        conditions.append(
            or_(
                AuditLog.object_type != "message_thread",
                AuditLog.object_id.in_(visible_threads),
            )
        )
    stmt = _with_names(*conditions).order_by(AuditLog.id.desc())
    count_stmt = select(func.count(AuditLog.id)).where(*conditions)
    return _paged(stmt, count_stmt, page)
