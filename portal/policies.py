"""The one place where role and ownership rules live: `can(user, action, obj, child_mode=...)`.

Views first load objects through scoped queries (`portal.cases.queries`), which already return 404
for anything outside the user's reach; `can` then decides what the user may do with what they see.
A rule that raises denies (AZ-14).

`can` decides from its arguments: the person, the object (with its links, loaded up front) and
whether a young child holds the guardian's device (`child_mode`, which the caller resolves). It
asks the request nothing, so tests call it without one. `require(action, obj)` is the request's
way in: it resolves the signed-in user and child mode, then asks `can`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any, Protocol, overload

from flask import abort, g, has_request_context
from flask_login import current_user
from sqlalchemy import Select, bindparam, event, select
from sqlalchemy.orm import Session

from portal import db
from portal.db import utcnow
from portal.models import (
    AgeBand,
    Case,
    Child,
    ConsentAction,
    ConsentKind,
    ConsentRecord,
    GuardianLink,
    User,
)
from portal.models.case_rows import AnyCase, PlainCase, PlainGuardianLink
from portal.models.cases import age_on
from portal.session_state import in_child_mode

log = logging.getLogger(__name__)


def today() -> date:
    return utcnow().date()


def therapist_on(user: User, case: AnyCase) -> bool:
    return user.is_therapist and any(
        link.therapist_id == user.id and link.is_current for link in case.therapist_links
    )


@overload
def guardian_link_of(
    user: User, case: Case, now: datetime | None = None
) -> GuardianLink | None: ...


@overload
def guardian_link_of(
    user: User, case: PlainCase, now: datetime | None = None
) -> PlainGuardianLink | None: ...


def guardian_link_of(
    user: User, case: AnyCase, now: datetime | None = None
) -> GuardianLink | PlainGuardianLink | None:
    if not user.is_guardian:
        return None
    now = now or utcnow()
    for link in case.guardian_links:
        if link.guardian_id == user.id and link.is_current(now):
            return link
    return None


def is_the_child(user: User, case: AnyCase) -> bool:
    return user.is_child and case.child.user_id == user.id


class ConsentAnswer(Protocol):
    """What the consent checks read of a consent record: a record, or a row of these columns."""

    @property
    def kind(self) -> ConsentKind: ...
    @property
    def given_by_id(self) -> int: ...
    @property
    def action(self) -> ConsentAction: ...


def consent_in_force(case: AnyCase, kind: ConsentKind) -> bool:
    """A guardian with authority has given it and none of them has withdrawn it since: a "no"
    from any guardian with authority counts (DESIGN §9)."""
    authority_ids = {
        link.guardian_id
        for link in case.guardian_links
        if link.has_legal_authority and link.can_consent and link.is_current(utcnow())
    }
    if not authority_ids:
        return False
    latest: dict[int, ConsentAction] = {}
    for record in _consent_records(case):
        if record.kind is kind:
            latest[record.given_by_id] = record.action
    answers = [latest[gid] for gid in authority_ids if gid in latest]
    return ConsentAction.GRANTED in answers and ConsentAction.REVOKED not in answers


def _consent_records(case: AnyCase) -> Sequence[ConsentAnswer]:
    """The case's consent records, oldest first, read once per request however many checks it
    makes (issue 9; issue 17: a POST read them afresh at every check, four times to log one
    practice). A flush that writes a consent record, and any rollback, forget them, so a check
    made after a consent was recorded (or a view run again by the retry wrapper) reads them anew."""
    if not has_request_context():
        return _load_consent_records(case.id)
    cache: dict[int, Sequence[ConsentAnswer]] = g.setdefault("consent_records", {})
    if case.id not in cache:
        cache[case.id] = _load_consent_records(case.id)
    return cache[case.id]


def remember_consent_records(case: AnyCase, records: Sequence[ConsentAnswer]) -> None:
    """A page that read all of the case's consent records itself (oldest first) hands them to the
    checks of this request, which then need not read them again (issue 17: the family page)."""
    if has_request_context():
        g.setdefault("consent_records", {})[case.id] = records


def _forget_consent_records(*_: Any) -> None:
    if has_request_context():
        g.pop("consent_records", None)


def _forget_consent_records_written(session: Session, _context: Any) -> None:
    """After a flush (its new, dirty and deleted lists still hold what it wrote)."""
    written = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, ConsentRecord) for obj in written):
        _forget_consent_records()


event.listen(Session, "after_flush", _forget_consent_records_written)
event.listen(Session, "after_rollback", _forget_consent_records)


def _load_consent_records(case_id: int) -> Sequence[ConsentAnswer]:
    return db.read_columns(_consent_records_statement(), {"case_id": case_id}).all()


@cache
def _consent_records_statement() -> Select[ConsentKind, int, ConsentAction]:
    """Built once (on first use: importing configures no mapper), the case bound (issue 17:
    every request about a child's record reads them; the checks read three columns of each, so
    they come as plain rows, not records)."""
    return (
        select(ConsentRecord.kind, ConsentRecord.given_by_id, ConsentRecord.action)
        .where(ConsentRecord.case_id == bindparam("case_id"))
        .order_by(ConsentRecord.id)
    )


def child_data_allowed(case: AnyCase) -> bool:
    """COPPA (CO-01): nothing from the child until treatment consent, and for under-13s the
    parental consent, are in force."""
    if not consent_in_force(case, ConsentKind.TREATMENT):
        return False
    if case.child.age(today()) < 13:
        return consent_in_force(case, ConsentKind.PARENTAL_CONSENT_UNDER_13)
    return True


def _can_create_child_account(user: User, case: AnyCase) -> bool:
    link = guardian_link_of(user, case)
    actor_ok = therapist_on(user, case) or (link is not None and link.can_consent)
    band = case.child.age_band(today())
    return (
        actor_ok
        and case.child.user_id is None
        and band is not AgeBand.YOUNG
        and child_data_allowed(case)
    )


def _can_enter_child_mode(user: User, case: AnyCase) -> bool:
    return (
        guardian_link_of(user, case) is not None
        and case.child.age_band(today()) is not AgeBand.TEEN
        and child_data_allowed(case)
    )


def _can_respond_to_plan(user: User, case: AnyCase, child_mode: bool) -> bool:
    link = guardian_link_of(user, case)
    return link is not None and link.can_consent and not child_mode


def _can_assent(user: User, case: AnyCase, child_mode: bool) -> bool:
    """The child assents themselves; a guardian may record it for a young child (or in child
    mode, where the child is holding the guardian's device)."""
    if is_the_child(user, case):
        return True
    if guardian_link_of(user, case) is None:
        return False
    return child_mode or case.child.age_band(today()) is AgeBand.YOUNG


def _is_member(user: User, case: AnyCase) -> bool:
    return (
        therapist_on(user, case)
        or guardian_link_of(user, case) is not None
        or is_the_child(user, case)
    )


def _at_child_screen(user: User, case: AnyCase, child_mode: bool) -> bool:
    """The child themself, or a guardian who handed their device over (child mode)."""
    if is_the_child(user, case):
        return True
    return guardian_link_of(user, case) is not None and child_mode


def _can_log_practice(user: User, case: AnyCase, child_mode: bool) -> bool:
    return _at_child_screen(user, case, child_mode) and child_data_allowed(case)


def _grown_up_of(user: User, case: AnyCase, child_mode: bool) -> bool:
    """A guardian acting as themself (not while the child holds the device)."""
    return guardian_link_of(user, case) is not None and not child_mode


def _can_suggest_step(user: User, case: AnyCase, child_mode: bool) -> bool:
    if _grown_up_of(user, case, child_mode):
        return True
    return (
        _can_log_practice(user, case, child_mode)
        and case.child.age_band(today()) is not AgeBand.YOUNG
    )


def _guardian_with_authority(user: User, case: AnyCase, child_mode: bool) -> bool:
    link = guardian_link_of(user, case)
    return link is not None and link.can_consent and not child_mode


def _is_teen(user: User) -> bool:
    """A signed-in 13-17 child: the only children with messaging (the teen thread)."""
    if not user.is_child:
        return False
    born = db.session.scalar(select(Child.date_of_birth).where(Child.user_id == user.id))
    return born is not None and 13 <= age_on(born, today()) <= 17


def _can_use_messages(user: User, _: Any) -> bool:
    return user.is_therapist or user.is_guardian or _is_teen(user)


# A rule: (the person, the object, whether child mode is on) -> allowed.
Rule = Callable[[User, Any, bool], bool]


def _any_mode(rule: Callable[[User, Any], bool]) -> Rule:
    """A rule that child mode does not change."""
    return lambda user, obj, _child_mode: rule(user, obj)


def _team_or_grown_up(user: User, case: AnyCase, child_mode: bool) -> bool:
    return therapist_on(user, case) or _grown_up_of(user, case, child_mode)


def _team_or_guardian(user: User, case: AnyCase) -> bool:
    return therapist_on(user, case) or guardian_link_of(user, case) is not None


def _any_guardian(user: User, case: AnyCase) -> bool:
    return guardian_link_of(user, case) is not None


def _therapist(user: User, _: Any) -> bool:
    return user.is_therapist


def _guardian(user: User, _: Any) -> bool:
    return user.is_guardian


def _grown_up(user: User, _: Any) -> bool:
    return not user.is_child


def _admin(user: User, _: Any) -> bool:
    return user.is_therapist and user.is_admin


_RULES: dict[str, Rule] = {
    "caseload.view": _any_mode(_therapist),
    "case.open": _any_mode(_therapist),
    "case.view": _any_mode(_team_or_guardian),
    "case.manage_team": _any_mode(therapist_on),
    "case.create_child_account": _any_mode(_can_create_child_account),
    "case.enter_child_mode": _any_mode(_can_enter_child_mode),
    "case.record_own_consent": _any_mode(_any_guardian),
    "family.use": _any_mode(_guardian),  # the family blueprint: a guardian's own pages
    "child.view_own_screen": _any_mode(is_the_child),
    "plan.edit": _any_mode(therapist_on),
    "plan.read_full": _any_mode(_grown_up),  # what changed, the printable plan: not for children
    # calendar link and reminders: a grown-up's own account
    "calendar.use": _any_mode(_grown_up),
    "plan.respond": _can_respond_to_plan,
    "plan.assent": _can_assent,
    "plan.suggest": _any_mode(_any_guardian),
    "goal.rate": _any_mode(_is_member),
    "feedback.manage": _any_mode(therapist_on),
    "feedback.give": _grown_up_of,
    "ladder.edit": _any_mode(therapist_on),
    "ladder.view_progress": _team_or_grown_up,
    "practice.log": _can_log_practice,
    "practice.cheer": _team_or_grown_up,
    "step.suggest": _can_suggest_step,
    "reward.add": _team_or_grown_up,
    "reward.approve": _grown_up_of,
    "reward.request": _can_log_practice,
    "redemption.confirm": _grown_up_of,
    "clinic.manage_therapists": _any_mode(_admin),
    "clinic.read_audit": _any_mode(_admin),
    "case.see_record_views": _any_mode(_team_or_guardian),
    # Messaging: threads themselves are reached only through membership (messaging.queries).
    "messages.use": _any_mode(_can_use_messages),
    "messages.case_threads": _any_mode(_team_or_guardian),
    "messages.start_family_thread": _any_mode(_team_or_guardian),
    "messages.open_thread": _any_mode(therapist_on),  # household and teen threads
    "messages.office_hours": _any_mode(_therapist),
    # Data rights (CO-02): any linked guardian sees their child's data (minimum necessary);
    # deletion and closing the child's account need a guardian who can consent.
    "rights.export": _grown_up_of,
    "rights.request_deletion": _guardian_with_authority,
    "rights.close_child_account": _guardian_with_authority,
    "rights.manage_requests": _any_mode(_admin),
}


def can(user: User, action: str, obj: Any = None, *, child_mode: bool = False) -> bool:
    """May `user` do `action` (on `obj`)? `child_mode`: a young child holds this guardian's
    device (the caller asks `in_child_mode()`; `require` does)."""
    rule = _RULES[action]
    try:
        return bool(rule(user, obj, child_mode))
    except Exception:  # fail closed (AZ-14)
        log.exception("policy %s raised; denying", action)
        return False


def may(action: str, obj: Any = None) -> bool:
    """`can` for the signed-in user of this request, in its child mode. The rules get the user
    itself, not the proxy, which would look the request up again at each attribute (issue 17)."""
    return can(current_user._get_current_object(), action, obj, child_mode=in_child_mode())


def require(action: str, obj: Any = None) -> None:
    """The signed-in user may `action` (on `obj`), or the request ends in a 404: a forbidden
    action answers exactly like a missing page (AZ-03)."""
    if not may(action, obj):
        abort(404)


def actions() -> list[str]:
    return sorted(_RULES)
