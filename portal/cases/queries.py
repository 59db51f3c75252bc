"""Scoped reads: every case a view touches is loaded through here, so a case outside the user's
reach is simply not found (404), exactly like one that does not exist (AZ-03, AZ-13)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Select,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy import case as sql_case
from sqlalchemy.orm import aliased, joinedload, selectinload

from portal import db
from portal.audit_trail import accessed
from portal.db import utcnow, written
from portal.models import Case, CaseTherapist, Child, GuardianLink, Role, User
from portal.models.cases import CaseStatus, age_on
from portal.models.consent import ConsentAction, ConsentKind, ConsentRecord
from portal.models.feedback import FamilyNote
from portal.models.messages import MessageThread
from portal.models.plans import PlanStatus, PlanVersion
from portal.models.tasks import CaseTask, TaskKind
from portal.policies import require

R = TypeVar("R")


def reached(row: R | None, kind: str, case_id: int | None = None) -> R:
    """What a scoped loader found, named for the audit trail (`accessed`) as `kind` in case
    `case_id` (by default the row's own case); 404 when it found nothing, so an object outside the
    user's reach answers exactly like a missing one. Every `get_x_for` / `get_x_in` ends here."""
    if row is None:
        abort(404)
    found: Any = row
    accessed(kind, found.id, case_id=found.case_id if case_id is None else case_id)
    return row


def get_in_case(model: type[R], kind: str, case_id: int, row_id: int) -> R:
    """Row `row_id` of `model` when it belongs to case `case_id` (the caller loaded that case
    through a scoped loader first); else 404."""
    table: Any = model
    stmt = select(model).where(table.id == row_id, table.case_id == case_id)
    return reached(db.session.scalars(stmt).one_or_none(), kind, case_id)


def visible_case_ids(user: User) -> Select[int]:
    return case_ids_visible_to(user.role, user.id, utcnow())


def case_ids_visible_to(role: Role, user_id: Any, now: Any) -> Select[int]:
    """The root of every scoped read, with plain values (`visible_case_ids`) or with bound
    parameters in a statement built once and reused (`portal/messages/queries.py`'s poll)."""
    if role is Role.THERAPIST:
        return select(CaseTherapist.case_id).where(
            CaseTherapist.therapist_id == user_id, CaseTherapist.ended_at.is_(None)
        )
    if role is Role.GUARDIAN:
        return select(GuardianLink.case_id).where(
            GuardianLink.guardian_id == user_id,
            GuardianLink.valid_from <= now,
            or_(GuardianLink.valid_to.is_(None), GuardianLink.valid_to > now),
        )
    return select(Case.id).join(Child, Case.child_id == Child.id).where(Child.user_id == user_id)


def _with_team(stmt: Select[Case]) -> Select[Case]:
    return stmt.options(
        # The team in three queries whatever the number of cases (issue 9): each case with its
        # child, then the therapist links with their users, then the guardian links with theirs.
        joinedload(Case.child),
        selectinload(Case.therapist_links).joinedload(CaseTherapist.therapist),
        selectinload(Case.guardian_links).joinedload(GuardianLink.guardian),
    )


def _with_team_of_one(stmt: Select[Case]) -> Select[Case]:
    """One case and its whole team in ONE statement (issue 17: the scope check of every case page
    was three): its child, the therapist links and the guardian links with their people, joined.
    The two link lists multiply (a family of four guardians with two therapists is eight rows),
    which is cheaper than two more round trips for one case; lists of cases use `_with_team`."""
    return stmt.options(
        joinedload(Case.child),
        joinedload(Case.therapist_links)
        .joinedload(CaseTherapist.therapist)
        .joinedload(User.clinic),  # the therapist's office hours use their clinic's time zone
        joinedload(Case.guardian_links).joinedload(GuardianLink.guardian),
    )


def cases_for(user: User) -> list[Case]:
    stmt = _with_team(select(Case).where(Case.id.in_(visible_case_ids(user)))).order_by(Case.id)
    return list(db.session.scalars(stmt).unique())


@dataclass(frozen=True)
class CaseloadRow:
    """One line of a therapist's caseload, read as plain columns (issue 17: no Case, Child, link
    and User objects built for a list of 40)."""

    id: int
    first_name: str
    full_name: str
    age: int
    presenting_concern: str
    status: CaseStatus
    is_primary: bool | None  # None: on the caseload without a current link of their own
    guardians: list[tuple[str, str]]  # (name, household) of each current guardian link


def caseload_rows(user: User, today: date) -> list[CaseloadRow]:
    """The cases `cases_for` gives, as plain rows in two queries whatever their number."""
    mine = CaseTherapist
    rows = db.session.execute(
        select(
            Case.id,
            Child.first_name,
            Child.last_name,
            Child.date_of_birth,
            Case.presenting_concern,
            Case.status,
            mine.is_primary,
        )
        .join(Child, Case.child_id == Child.id)
        .outerjoin(
            mine,
            (mine.case_id == Case.id) & (mine.therapist_id == user.id) & mine.ended_at.is_(None),
        )
        .where(Case.id.in_(visible_case_ids(user)))
        .order_by(Case.id)
    ).all()
    guardians: dict[int, list[tuple[str, str]]] = {row.id: [] for row in rows}
    if rows:
        for case_id, name, household in db.session.execute(
            select(GuardianLink.case_id, User.display_name, GuardianLink.household)
            .join(User, User.id == GuardianLink.guardian_id)
            .where(GuardianLink.case_id.in_(list(guardians)), GuardianLink.valid_to.is_(None))
            .order_by(GuardianLink.id)
        ):
            guardians[case_id].append((name, household))
    return [
        CaseloadRow(
            id=row.id,
            first_name=row.first_name,
            full_name=f"{row.first_name} {row.last_name}",
            age=age_on(row.date_of_birth, today),
            presenting_concern=row.presenting_concern,
            status=row.status,
            is_primary=row.is_primary,
            guardians=guardians[row.id],
        )
        for row in rows
    ]


def get_case_for(user: User, case_id: int) -> Case:
    values = {"case_id": case_id, "user_id": user.id, "now": utcnow()}
    case = db.session.scalars(_case_statement(user.role), values).unique().one_or_none()
    if case is None:
        abort(404)
    accessed("case", case.id, case_id=case.id, child_id=case.child_id)
    return case


@cache
def _case_statement(role: Role) -> Select[Case]:
    """`get_case_for`'s statement, built once per role (issue 17: building it and its cache key
    was a seventh of the thread page), the case, the person and the moment bound."""
    visible = case_ids_visible_to(role, bindparam("user_id"), bindparam("now"))
    return _with_team_of_one(
        select(Case).where(Case.id == bindparam("case_id"), Case.id.in_(visible))
    )


def require_case(case_id: int, action: str) -> Case:
    """Case `case_id`, when the signed-in user can see it and may `action` on it; else 404."""
    case = get_case_for(current_user, case_id)
    require(action, case)
    return case


def _still_withdrawn(case_id: Any) -> Any:
    """Some guardian's latest word on some consent of the case (the child's own assent aside,
    which raises no notice) is a withdrawal: a consent given again ends it, as in
    `policies.consent_in_force`."""
    withdrawal, later = aliased(ConsentRecord), aliased(ConsentRecord)
    return exists(
        select(withdrawal.id).where(
            withdrawal.case_id == case_id,
            withdrawal.action == ConsentAction.REVOKED,
            withdrawal.kind != ConsentKind.CHILD_ASSENT,
            ~exists(
                select(later.id).where(
                    later.case_id == withdrawal.case_id,
                    later.kind == withdrawal.kind,
                    later.given_by_id == withdrawal.given_by_id,
                    later.id > withdrawal.id,
                )
            ),
        )
    )


def case_scope(role: Role | None) -> Any:
    """The cases a statement built once reads: the `case_ids` parameter (role None), or every
    case a user of `role` can see (the `user_id` and `now` parameters; the scoped root of every
    read, AZ-03). The caseload reads all its cases: as a subquery no list of ids is written into
    the SQL at each run (issue 17: SQLAlchemy spelling out 40 ids took longer than SQLite's
    answer), and 400 cases cost what 40 do."""
    if role is None:
        return bindparam("case_ids", expanding=True)
    return case_ids_visible_to(role, bindparam("user_id"), bindparam("now"))


def scope_values(case_ids: list[int], user: User | None, now: datetime) -> dict[str, Any]:
    """The parameters of `case_scope(user.role if user else None)`."""
    if user is None:
        return {"case_ids": case_ids, "now": now}
    return {"user_id": user.id, "now": now}


def _open_per_case(flag: str, model: Any, cases: Any, *open_: Any) -> Select[Any]:
    """Per case of `cases` (`case_scope`): how many `model` rows are open (`open_`), the
    oldest's id and when it came; labelled `flag`, so several of these go out as one UNION ALL."""
    return (
        select(
            literal(flag).label("flag"),
            model.case_id,
            func.count(),
            func.min(model.id),
            func.min(model.created_at),
        )
        .where(model.case_id.in_(cases), *open_)
        .group_by(model.case_id)
    )


@cache
def _flag_statements(role: Role | None) -> tuple[Any, CompoundSelect[*tuple[Any, ...]], Any]:
    """caseload_flags' three statements, built once per scope (`case_scope`) and reused with the
    cases and the time as parameters (issue 17: building them was a tenth of the caseload's
    cost)."""
    now: BindParameter[datetime] = bindparam("now")
    cases = case_scope(role)
    threads = (
        select(
            MessageThread.case_id,
            func.count(MessageThread.reply_due_at),
            func.sum(sql_case((MessageThread.reply_due_at < now, 1), else_=0)),
            func.max(MessageThread.last_message_at),
            func.min(sql_case((MessageThread.reply_due_at < now, MessageThread.id))),
        )
        .where(MessageThread.case_id.in_(cases))
        .group_by(MessageThread.case_id)
    )
    # Open family requests, open "How is it going?" notes and open consent-withdrawn notices:
    # one statement for the three.
    open_tasks = _open_per_case(
        "tasks",
        CaseTask,
        cases,
        CaseTask.resolved_at.is_(None),
        CaseTask.kind != TaskKind.CONSENT_WITHDRAWN,
    )
    open_notes = _open_per_case(
        "notes",
        FamilyNote,
        cases,
        FamilyNote.resolved_at.is_(None),
        FamilyNote.answered_at.is_(None),
    )
    open_withdrawals = _open_per_case(
        "consent",
        CaseTask,
        cases,
        CaseTask.resolved_at.is_(None),
        CaseTask.kind == TaskKind.CONSENT_WITHDRAWN,
        _still_withdrawn(CaseTask.case_id),
    )
    plans = select(
        PlanVersion.case_id,
        PlanVersion.status,
        PlanVersion.review_due_on,
        PlanVersion.signed_off_at,
    ).where(
        PlanVersion.case_id.in_(cases),
        # Written into the SQL (portal.db.written): plan_versions has partial indexes on status.
        PlanVersion.status.in_([written(PlanStatus.PROPOSED), written(PlanStatus.ACTIVE)]),
    )
    return threads, union_all(open_tasks, open_notes, open_withdrawals), plans


def caseload_flags(case_ids: list[int], user: User | None = None) -> dict[int, dict[str, Any]]:
    """Per case: open family requests, "How is it going?" notes neither answered nor resolved,
    open consent-withdrawn notices whose consent is still withdrawn, plan waiting for the family
    or for the therapist's sign-off, review overdue, messages waiting for a reply (and how many
    past the reply window), and when the last message was sent. `oldest_<flag>` is the id of the
    oldest open one, the evidence a caseload row links to, and `since_<flag>` when it came.
    Three grouped queries whatever the caseload size. With `user`, `case_ids` are all the cases
    the user can see, and the statements read them as such (`case_scope`)."""
    flags: dict[int, dict[str, Any]] = {
        cid: {
            "tasks": 0,
            "notes": 0,
            "consent": 0,
            "oldest_tasks": None,
            "oldest_notes": None,
            "oldest_consent": None,
            "since_tasks": None,
            "since_notes": None,
            "since_consent": None,
            "proposed": False,
            "sign_off": False,
            "review_due": None,
            "awaiting_reply": 0,
            "reply_overdue": 0,
            "last_contact": None,
            "overdue_thread": None,
        }
        for cid in case_ids
    }
    if not case_ids:
        return flags
    threads, open_ones, plans = _flag_statements(user.role if user is not None else None)
    values = scope_values(case_ids, user, utcnow())
    # Rows of plain columns (db.read_columns). A case not among `case_ids` (one joining the
    # caseload between two statements) is not shown.
    read = db.read_columns
    for case_id, waiting, overdue, last_message_at, overdue_thread in read(threads, values):
        if case := flags.get(case_id):
            case["awaiting_reply"] = waiting
            case["reply_overdue"] = int(overdue or 0)
            case["last_contact"] = last_message_at
            case["overdue_thread"] = overdue_thread
    for flag, case_id, count, oldest, since in read(open_ones, values):
        if case := flags.get(case_id):
            case[flag] = count
            case[f"oldest_{flag}"] = oldest
            case[f"since_{flag}"] = since
    for case_id, status, review_due, signed_off_at in read(plans, values):
        if not (case := flags.get(case_id)):
            continue
        if status is PlanStatus.PROPOSED:
            case["proposed"] = True
            case["sign_off"] = signed_off_at is None
        else:
            case["review_due"] = review_due
    return flags


def get_case_for_child_user(user: User) -> Case | None:
    values = {"user_id": user.id, "now": utcnow()}
    case = db.session.scalars(_child_user_case_statement(user.role), values).unique().first()
    if case is not None:
        accessed("case", case.id, case_id=case.id, child_id=case.child_id)
    return case


@cache
def _child_user_case_statement(role: Role) -> Select[Case]:
    """`get_case_for_child_user`'s statement, built once (issue 17), the person bound: the newest
    case the person may see, then that one case with its team. (Asked as "the visible cases with
    their teams, newest first", PostgreSQL joined every case of the clinic to its team before
    keeping the child's: ~20 ms on the bench data.)"""
    visible = case_ids_visible_to(role, bindparam("user_id"), bindparam("now"))
    newest = visible.order_by(visible.selected_columns[0].desc()).limit(1).scalar_subquery()
    return _with_team_of_one(select(Case).where(Case.id == newest))
