"""Scoped reads for messaging. A thread is only ever reached through `visible_thread_ids(user)`,
so a thread someone is not in answers exactly like one that does not exist (404, AZ-03, AZ-11).

Membership is derived, never stored: therapists on the case; guardians with a current link who
acknowledged the messaging policy (the family thread, unless the therapist restricted them to their
own household, and their own household thread); the child, aged 13-17, in the teen thread only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from typing import Any, overload

from flask import abort
from sqlalchemy import BindParameter, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import selectinload

from portal import db
from portal.cases.queries import case_ids_visible_to, reached
from portal.db import utcnow
from portal.messages.hours import Hours
from portal.models import (
    Case,
    Child,
    ConsentAction,
    ConsentKind,
    ConsentRecord,
    GuardianLink,
    GuardianRestriction,
    Message,
    MessageKind,
    MessageThread,
    ReferenceType,
    Role,
    ServicePolicy,
    ThreadKind,
    ThreadRead,
    User,
)
from portal.models.case_rows import AnyCase, Named, PlainCase
from portal.session_state import Person, child_named_at_screen

MESSAGE_PAGE = 50  # a thread page shows this many messages; "Earlier messages" pages back


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _acknowledged_messaging_policy(user_id: Any) -> object:
    """The guardian's latest messaging-policy record for the thread's case is a grant."""
    latest = (
        select(ConsentRecord.action)
        .where(
            ConsentRecord.case_id == MessageThread.case_id,
            ConsentRecord.kind == ConsentKind.MESSAGING_POLICY,
            ConsentRecord.given_by_id == user_id,
        )
        .order_by(ConsentRecord.id.desc())
        .limit(1)
        .correlate(MessageThread)
        .scalar_subquery()
    )
    return latest == ConsentAction.GRANTED.value


def visible_thread_ids(user: User) -> Select[int]:
    today = utcnow().date()
    return _thread_ids_visible_to(
        user.role,
        user.id,
        now=utcnow(),
        teen_born_by=_years_before(today, 13),
        teen_born_after=_years_before(today, 18),
    )


def bound_visible_thread_ids(role: Role) -> Select[int]:
    """`visible_thread_ids` for a statement built once and reused: the values are bound
    parameters named user_id, now, teen_born_by and teen_born_after (`visibility_values`)."""
    return _thread_ids_visible_to(
        role,
        bindparam("user_id"),
        now=bindparam("now"),
        teen_born_by=bindparam("teen_born_by"),
        teen_born_after=bindparam("teen_born_after"),
    )


def visibility_values(user: User | Person) -> dict[str, Any]:
    """This request's values for `bound_visible_thread_ids`."""
    now = utcnow()
    return {
        "user_id": user.id,
        "now": now,
        "teen_born_by": _years_before(now.date(), 13),
        "teen_born_after": _years_before(now.date(), 18),
    }


def _thread_ids_visible_to(
    role: Role, user_id: Any, *, now: Any, teen_born_by: Any, teen_born_after: Any
) -> Select[int]:
    """The membership rules, once: with plain values (`visible_thread_ids`) or with bound
    parameters in a statement built once and reused (the poll's, `thread_version_for`)."""
    if role is Role.THERAPIST:
        return select(MessageThread.id).where(
            MessageThread.case_id.in_(case_ids_visible_to(role, user_id, now))
        )
    if role is Role.GUARDIAN:
        current_link = and_(
            GuardianLink.case_id == MessageThread.case_id,
            GuardianLink.guardian_id == user_id,
            GuardianLink.valid_from <= now,
            or_(GuardianLink.valid_to.is_(None), GuardianLink.valid_to > now),
        )
        return (
            select(MessageThread.id)
            .join(GuardianLink, current_link)
            .where(
                _acknowledged_messaging_policy(user_id),  # type: ignore[arg-type]
                or_(
                    and_(
                        MessageThread.kind == ThreadKind.HOUSEHOLD,
                        MessageThread.guardian_id == user_id,
                    ),
                    and_(
                        MessageThread.kind == ThreadKind.FAMILY,
                        GuardianLink.restriction == GuardianRestriction.NONE,
                    ),
                ),
            )
        )
    return (
        select(MessageThread.id)
        .join(Case, Case.id == MessageThread.case_id)
        .join(Child, Child.id == Case.child_id)
        .where(
            Child.user_id == user_id,
            MessageThread.kind == ThreadKind.TEEN,
            Child.date_of_birth <= teen_born_by,
            Child.date_of_birth > teen_born_after,
        )
    )


def get_thread_for(user: User, thread_id: int) -> MessageThread:
    """The thread, when the user is in it; else 404. The statement is built once per role and
    reused with new values, as the poll's (issue 17)."""
    thread = db.session.scalars(
        _thread_statement(user.role), {"thread_id": thread_id, **visibility_values(user)}
    ).one_or_none()
    return reached(thread, "message_thread")


@cache
def _thread_statement(role: Role) -> Select[MessageThread]:
    return select(MessageThread).where(
        MessageThread.id == bindparam("thread_id"),
        MessageThread.id.in_(bound_visible_thread_ids(role)),
    )


def thread_version_for(user: User | Person, thread_id: int) -> int:
    """The poll's one query: the thread's change counter, or 404 for a non-member (AZ-09).
    The statement is built once per role and reused with new values (issue 17: building it
    anew was most of the idle poll's cost), and read through the session's connection (a
    column, no ORM entities: none of the ORM's per-statement work)."""
    version: int | None = db.read_columns(
        _version_statement(user.role), {"thread_id": thread_id, **visibility_values(user)}
    ).scalar()
    if version is None:
        abort(404)
    return version


@cache
def _version_statement(role: Role) -> Select[int]:
    return select(MessageThread.version).where(
        MessageThread.id == bindparam("thread_id"),
        MessageThread.id.in_(bound_visible_thread_ids(role)),
    )


def nav_counts(user: User) -> tuple[int, int]:
    """(threads the user is in, messages from others past their read mark): one query, for the
    navigation badge. Only threads the user may see count (AZ-12). A child the page has loaded
    who is not 13 to 17 today (the rule of `visible_thread_ids`) is in no thread: no query."""
    if user.role is Role.CHILD and not _may_have_a_teen_thread(user):
        return 0, 0
    row = db.read_columns(_nav_statement(user.role), visibility_values(user)).one()
    return int(row[0] or 0), int(row[1] or 0)


def _may_have_a_teen_thread(user: User) -> bool:
    """False only when the child's record is already in this request (every child screen loads
    it, or names its plain row) and their birth date is outside the teen thread's 13-17."""
    named = child_named_at_screen()
    if named is not None and named.user_id == user.id:
        return _teen_by_birth(named.date_of_birth)
    for loaded in list(db.session.identity_map.values()):
        if isinstance(loaded, Child) and loaded.user_id == user.id:
            return _teen_by_birth(loaded.date_of_birth)
    return True  # not loaded: the query answers


def _teen_by_birth(born: date) -> bool:
    today = utcnow().date()
    return _years_before(today, 18) < born <= _years_before(today, 13)


@cache
def _nav_statement(role: Role) -> Select[int, int]:
    user_id: BindParameter[int] = bindparam("user_id")
    read_up_to = (
        select(ThreadRead.last_read_seq)
        .where(ThreadRead.thread_id == MessageThread.id, ThreadRead.user_id == user_id)
        .scalar_subquery()
    )
    return (
        select(func.count(func.distinct(MessageThread.id)), func.count(Message.id))
        .select_from(MessageThread)
        .outerjoin(
            Message,
            and_(
                Message.thread_id == MessageThread.id,
                Message.author_id != user_id,
                # The read mark as a value, so the (thread, seq) index finds only the messages
                # after it (joined as a row, PostgreSQL read every message of each thread).
                Message.seq > func.coalesce(read_up_to, 0),
            ),
        )
        .where(MessageThread.id.in_(bound_visible_thread_ids(role)))
    )


@dataclass
class ThreadSummary:
    thread: MessageThread
    case: Case
    last_message: Message | None
    unread: int


def thread_summaries(user: User, case_id: int | None = None) -> list[ThreadSummary]:
    """The inbox: every thread the user is in (of one case, or all), newest activity first.
    Three queries whatever the number of threads."""
    stmt = (
        select(MessageThread)
        .where(MessageThread.id.in_(visible_thread_ids(user)))
        .order_by(MessageThread.last_message_at.desc().nulls_last(), MessageThread.id.desc())
    )
    if case_id is not None:
        stmt = stmt.where(MessageThread.case_id == case_id)
    threads = list(db.session.scalars(stmt))
    if not threads:
        return []
    ids = [t.id for t in threads]
    cases = {
        c.id: c
        for c in db.session.scalars(
            select(Case)
            .where(Case.id.in_({t.case_id for t in threads}))
            .options(selectinload(Case.child))
        )
    }
    last = {
        m.thread_id: m
        for m in db.session.scalars(
            select(Message)
            .join(MessageThread, Message.thread_id == MessageThread.id)
            .where(MessageThread.id.in_(ids), Message.seq == MessageThread.seq)
            .options(selectinload(Message.author))
        )
    }
    unread = dict(
        db.session.execute(
            select(Message.thread_id, func.count(Message.id))
            .outerjoin(
                ThreadRead,
                and_(ThreadRead.thread_id == Message.thread_id, ThreadRead.user_id == user.id),
            )
            .where(
                Message.thread_id.in_(ids),
                Message.author_id != user.id,
                Message.seq > func.coalesce(ThreadRead.last_read_seq, 0),
            )
            .group_by(Message.thread_id)
        ).all()
    )
    return [
        ThreadSummary(t, cases[t.case_id], last.get(t.id), int(unread.get(t.id, 0)))
        for t in threads
    ]


def messages_of(thread: MessageThread, before: int | None = None) -> list[Any]:
    """The newest MESSAGE_PAGE messages (before seq `before`, when paging back), oldest first:
    one indexed range read on (thread_id, seq), however long the thread (issue 9). Plain rows of
    the columns the page shows, with the author's name (issue 17: no Message and User objects,
    and the statement built once)."""
    values: dict[str, Any] = {"thread_id": thread.id}
    if before is not None:
        values["before"] = before
    newest = db.read_columns(_messages_statement(before is not None), values).all()
    return list(newest[::-1])


# seq, kind, author_id, author_name, body, ref_type, ref_id, created_at
MessageColumns = Select[int, MessageKind, int, str, str, ReferenceType | None, int | None, datetime]


@cache
def _messages_statement(paging_back: bool) -> MessageColumns:
    stmt = (
        select(
            Message.seq,
            Message.kind,
            Message.author_id,
            User.display_name.label("author_name"),
            Message.body,
            Message.ref_type,
            Message.ref_id,
            Message.created_at,
        )
        .outerjoin(User, User.id == Message.author_id)
        .where(Message.thread_id == bindparam("thread_id"))
    )
    if paging_back:
        stmt = stmt.where(Message.seq < bindparam("before"))
    return stmt.order_by(Message.seq.desc()).limit(MESSAGE_PAGE)


def read_marks(thread: MessageThread) -> dict[int, int]:
    """{user id: the last seq they read} for the thread."""
    rows = db.read_columns(_read_marks_statement(), {"thread_id": thread.id})
    return {user_id: seq for user_id, seq in rows}


@cache
def _read_marks_statement() -> Select[int, int]:
    return select(ThreadRead.user_id, ThreadRead.last_read_seq).where(
        ThreadRead.thread_id == bindparam("thread_id")
    )


def acknowledged_guardian_ids(case: AnyCase) -> set[int]:
    latest: dict[int, ConsentAction] = {}
    for given_by, action in db.read_columns(_acknowledged_statement(), {"case_id": case.id}):
        latest[given_by] = action
    return {gid for gid, action in latest.items() if action is ConsentAction.GRANTED}


@cache
def _acknowledged_statement() -> Select[int, ConsentAction]:
    return (
        select(ConsentRecord.given_by_id, ConsentRecord.action)
        .where(
            ConsentRecord.case_id == bindparam("case_id"),
            ConsentRecord.kind == ConsentKind.MESSAGING_POLICY,
        )
        .order_by(ConsentRecord.id)
    )


@overload
def thread_members(thread: MessageThread, case: Case) -> list[User]: ...


@overload
def thread_members(thread: MessageThread, case: PlainCase) -> list[Named]: ...


def thread_members(thread: MessageThread, case: AnyCase) -> list[User] | list[Named]:
    """Everyone in the thread now, by the same rules as `visible_thread_ids` (the mapped people
    of a mapped case, the named ones of its plain rows)."""
    now = utcnow()
    members: list[Any] = [link.therapist for link in case.therapist_links if link.is_current]
    if thread.kind is ThreadKind.TEEN:
        child = case.child
        if child.user is not None and 13 <= child.age(now.date()) <= 17:
            members.append(child.user)
        return members
    acknowledged = acknowledged_guardian_ids(case)
    for link in case.guardian_links:
        if not link.is_current(now) or link.guardian_id not in acknowledged:
            continue
        own_household = (
            thread.kind is ThreadKind.HOUSEHOLD and link.guardian_id == thread.guardian_id
        )
        unrestricted_family = (
            thread.kind is ThreadKind.FAMILY and link.restriction is GuardianRestriction.NONE
        )
        if own_household or unrestricted_family:
            members.append(link.guardian)
    return members


@overload
def primary_therapist(case: Case) -> User | None: ...


@overload
def primary_therapist(case: PlainCase) -> Named | None: ...


def primary_therapist(case: AnyCase) -> User | Named | None:
    current: list[Any] = [link for link in case.therapist_links if link.is_current]
    primary = next((link for link in current if link.is_primary), None) or next(iter(current), None)
    return primary.therapist if primary else None


def hours_of(therapist: User | Named) -> Hours:
    """The therapist's office hours: their policy, or the clinic default when they never saved
    one. The policy's four columns as a plain row (issue 17: its object was ~0.1 ms of a thread
    page)."""
    policy = db.read_columns(_policy_statement(), {"therapist_id": therapist.id}).one_or_none()
    return Hours(therapist) if policy is None else Hours(therapist, *policy)


@cache
def _policy_statement() -> Select[int, time, time, int]:
    return select(
        ServicePolicy.office_days,
        ServicePolicy.opens_at,
        ServicePolicy.closes_at,
        ServicePolicy.reply_window_days,
    ).where(ServicePolicy.therapist_id == bindparam("therapist_id"))


def existing_threads(case: Case) -> list[MessageThread]:
    return list(
        db.session.scalars(
            select(MessageThread).where(MessageThread.case_id == case.id).order_by(MessageThread.id)
        )
    )
