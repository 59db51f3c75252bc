"""The one place where role and ownership rules live: `can(user, action, obj)`.

Views first load objects through scoped queries (`portal.cases.queries`), which already return 404
for anything outside the user's reach; `can` then decides what the user may do with what they see.
A rule that raises denies (AZ-14).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from flask import abort, g
from flask_login import current_user
from sqlalchemy import select

from portal import db
from portal.db import read_only_request, utcnow
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
from portal.models.cases import age_on
from portal.session_state import in_child_mode

log = logging.getLogger(__name__)


def today() -> date:
    return utcnow().date()


def therapist_on(user: User, case: Case) -> bool:
    return user.is_therapist and any(
        link.therapist_id == user.id and link.is_current for link in case.therapist_links
    )


def guardian_link_of(user: User, case: Case, now: datetime | None = None) -> GuardianLink | None:
    if not user.is_guardian:
        return None
    now = now or utcnow()
    for link in case.guardian_links:
        if link.guardian_id == user.id and link.is_current(now):
            return link
    return None


def is_the_child(user: User, case: Case) -> bool:
    return user.is_child and case.child.user_id == user.id


def consent_in_force(case: Case, kind: ConsentKind) -> bool:
    """The latest record of this kind from any guardian with authority is a grant."""
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
    return any(latest.get(gid) is ConsentAction.GRANTED for gid in authority_ids)


def _consent_records(case: Case) -> Sequence[ConsentRecord]:
    """The case's consent records, oldest first. A page view (GET) writes none, so it reads
    them once however many checks it makes (issue 9); any other request reads them afresh."""
    if not read_only_request():
        return _load_consent_records(case.id)
    cache: dict[int, Sequence[ConsentRecord]] = g.setdefault("consent_records", {})
    if case.id not in cache:
        cache[case.id] = _load_consent_records(case.id)
    return cache[case.id]


def _load_consent_records(case_id: int) -> Sequence[ConsentRecord]:
    return db.session.scalars(
        select(ConsentRecord).where(ConsentRecord.case_id == case_id).order_by(ConsentRecord.id)
    ).all()


def child_data_allowed(case: Case) -> bool:
    """COPPA (CO-01): nothing from the child until treatment consent, and for under-13s the
    parental consent, are in force."""
    if not consent_in_force(case, ConsentKind.TREATMENT):
        return False
    if case.child.age(today()) < 13:
        return consent_in_force(case, ConsentKind.PARENTAL_CONSENT_UNDER_13)
    return True


def _can_create_child_account(user: User, case: Case) -> bool:
    link = guardian_link_of(user, case)
    actor_ok = therapist_on(user, case) or (link is not None and link.can_consent)
    band = case.child.age_band(today())
    return (
        actor_ok
        and case.child.user_id is None
        and band is not AgeBand.YOUNG
        and child_data_allowed(case)
    )


def _can_enter_child_mode(user: User, case: Case) -> bool:
    return (
        guardian_link_of(user, case) is not None
        and case.child.age_band(today()) is not AgeBand.TEEN
        and child_data_allowed(case)
    )


def _can_respond_to_plan(user: User, case: Case) -> bool:
    link = guardian_link_of(user, case)
    return link is not None and link.can_consent and not in_child_mode()


def _can_assent(user: User, case: Case) -> bool:
    """The child assents themselves; a guardian may record it for a young child (or in child
    mode, where the child is holding the guardian's device)."""
    if is_the_child(user, case):
        return True
    if guardian_link_of(user, case) is None:
        return False
    return in_child_mode() or case.child.age_band(today()) is AgeBand.YOUNG


def _is_member(user: User, case: Case) -> bool:
    return (
        therapist_on(user, case)
        or guardian_link_of(user, case) is not None
        or is_the_child(user, case)
    )


def _at_child_screen(user: User, case: Case) -> bool:
    """The child themself, or a guardian who handed their device over (child mode)."""
    if is_the_child(user, case):
        return True
    return guardian_link_of(user, case) is not None and in_child_mode()


def _can_log_practice(user: User, case: Case) -> bool:
    return _at_child_screen(user, case) and child_data_allowed(case)


def _grown_up_of(user: User, case: Case) -> bool:
    """A guardian acting as themself (not while the child holds the device)."""
    return guardian_link_of(user, case) is not None and not in_child_mode()


def _can_suggest_step(user: User, case: Case) -> bool:
    if _grown_up_of(user, case):
        return True
    return _can_log_practice(user, case) and case.child.age_band(today()) is not AgeBand.YOUNG


def _guardian_with_authority(user: User, case: Case) -> bool:
    link = guardian_link_of(user, case)
    return link is not None and link.can_consent and not in_child_mode()


def _is_teen(user: User) -> bool:
    """A signed-in 13-17 child: the only children with messaging (the teen thread)."""
    if not user.is_child:
        return False
    born = db.session.scalar(select(Child.date_of_birth).where(Child.user_id == user.id))
    return born is not None and 13 <= age_on(born, today()) <= 17


def _can_use_messages(user: User, _: Any) -> bool:
    return user.is_therapist or user.is_guardian or _is_teen(user)


_RULES: dict[str, Callable[[User, Any], bool]] = {
    "caseload.view": lambda user, _: user.is_therapist,
    "case.open": lambda user, _: user.is_therapist,
    "case.view": lambda user, case: (
        therapist_on(user, case) or guardian_link_of(user, case) is not None
    ),
    "case.manage_team": therapist_on,
    "case.create_child_account": _can_create_child_account,
    "case.enter_child_mode": _can_enter_child_mode,
    "case.record_own_consent": lambda user, case: guardian_link_of(user, case) is not None,
    "child.view_own_screen": is_the_child,
    "plan.edit": therapist_on,
    "plan.respond": _can_respond_to_plan,
    "plan.assent": _can_assent,
    "plan.suggest": lambda user, case: guardian_link_of(user, case) is not None,
    "goal.rate": _is_member,
    "feedback.manage": therapist_on,
    "feedback.give": lambda user, case: (
        guardian_link_of(user, case) is not None and not in_child_mode()
    ),
    "ladder.edit": therapist_on,
    "ladder.view_progress": lambda user, case: therapist_on(user, case) or _grown_up_of(user, case),
    "practice.log": _can_log_practice,
    "practice.cheer": lambda user, case: therapist_on(user, case) or _grown_up_of(user, case),
    "step.suggest": _can_suggest_step,
    "reward.add": lambda user, case: therapist_on(user, case) or _grown_up_of(user, case),
    "reward.approve": _grown_up_of,
    "reward.request": _can_log_practice,
    "redemption.confirm": _grown_up_of,
    "clinic.manage_therapists": lambda user, _: user.is_therapist and user.is_admin,
    "clinic.read_audit": lambda user, _: user.is_therapist and user.is_admin,
    "case.see_record_views": lambda user, case: (
        therapist_on(user, case) or guardian_link_of(user, case) is not None
    ),
    # Messaging: threads themselves are reached only through membership (messaging.queries).
    "messages.use": _can_use_messages,
    "messages.case_threads": lambda user, case: (
        therapist_on(user, case) or guardian_link_of(user, case) is not None
    ),
    "messages.start_family_thread": lambda user, case: (
        therapist_on(user, case) or guardian_link_of(user, case) is not None
    ),
    "messages.open_thread": therapist_on,  # household and teen threads
    "messages.office_hours": lambda user, _: user.is_therapist,
    # Data rights (CO-02): any linked guardian sees their child's data (minimum necessary);
    # deletion and closing the child's account need a guardian who can consent.
    "rights.export": _grown_up_of,
    "rights.request_deletion": _guardian_with_authority,
    "rights.close_child_account": _guardian_with_authority,
    "rights.manage_requests": lambda user, _: user.is_therapist and user.is_admin,
}


def can(user: User, action: str, obj: Any = None) -> bool:
    rule = _RULES[action]
    try:
        return bool(rule(user, obj))
    except Exception:  # fail closed (AZ-14)
        log.exception("policy %s raised; denying", action)
        return False


def require(action: str, obj: Any = None) -> None:
    """The signed-in user may `action` (on `obj`), or the request ends in a 404: a forbidden
    action answers exactly like a missing page (AZ-03)."""
    if not can(current_user, action, obj):
        abort(404)


def actions() -> list[str]:
    return sorted(_RULES)
