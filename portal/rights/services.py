"""Data rights (CO-02): deletion requests, their completion by the clinic admin, and closing a
child's account. Services flush, never commit; the view commits once."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from portal import db
from portal.cases.services import ServiceError
from portal.db import utcnow
from portal.i18n import lazy_gettext as _l
from portal.models import (
    AuthSession,
    Case,
    CaseStatus,
    Credential,
    DataRequest,
    DataRequestStatus,
    PlanResponse,
    PracticeAttempt,
    Respondent,
    SessionFeedback,
    User,
)
from portal.security import end_all_sessions
from portal.stored_words import msgid_of

# What the practice keeps after a deletion, because clinical records must be retained for the
# period the clinic sets (README "Retention"). Each line is written into the completed request so
# the family and an auditor can see what was kept and why (flagged, never silent).
RETAINED_RECORDS = (
    _l("Treatment plan versions, goals, problems and progress ratings (clinical record)"),
    _l("Session dates and attendance (clinical record)"),
    _l("Consent records (proof of consent, COPPA 312.5)"),
    _l("Messages with the care team (clinical correspondence)"),
    _l("Practice ratings and token ledger, without the child's own words (clinical record)"),
)


def pending_request(case: Case) -> DataRequest | None:
    return db.session.scalars(
        select(DataRequest).where(
            DataRequest.case_id == case.id, DataRequest.status == DataRequestStatus.PENDING
        )
    ).first()


def requests_of(case: Case) -> list[DataRequest]:
    return list(
        db.session.scalars(
            select(DataRequest)
            .where(DataRequest.case_id == case.id)
            .order_by(DataRequest.id.desc())
        )
    )


def do_request_deletion(guardian: User, case: Case, reason: str) -> DataRequest:
    if pending_request(case) is not None:
        raise ServiceError(
            _("A deletion request for this child is already waiting for the clinic.")
        )
    request = DataRequest(case_id=case.id, requested_by_id=guardian.id, reason=reason.strip())
    db.session.add(request)
    db.session.flush()
    return request


def do_close_child_account(case: Case) -> User:
    """The child can no longer sign in, from this very moment (every open session ends)."""
    user = case.child.user
    if user is None or not user.active:
        raise ServiceError(_("Your child has no open account."))
    user.active = False
    end_all_sessions(user.id, "account closed")
    # A guardian's device handed to the child (child mode) is handed back.
    db.session.execute(
        update(AuthSession)
        .where(AuthSession.child_mode_child_id == case.child_id)
        .values(child_mode_child_id=None)
    )
    db.session.flush()
    return user


def do_complete_deletion(admin: User, request: DataRequest) -> DataRequest:
    """Remove or anonymise the child's personal information; keep (and list) what the practice
    must retain."""
    if request.status is not DataRequestStatus.PENDING:
        raise ServiceError(_("This request is already completed."))
    case = request.case
    child = case.child
    if child.user is not None:
        if child.user.active:
            do_close_child_account(case)
        account = child.user
        account.username = f"closed-{account.id}"
        account.display_name = f"#{child.id}"  # no words in any one language: the record number
        account.password_hash = None
        account.credential = Credential.NONE
    child.remove_name(utcnow())
    # The birth year stays: age bands and the retention clock depend on it; the day is PI.
    child.date_of_birth = date(child.date_of_birth.year, 1, 1)
    db.session.execute(
        update(PracticeAttempt)
        .where(PracticeAttempt.case_id == case.id)
        .values(prediction="", outcome="", note="", coach="")
    )
    db.session.execute(
        update(SessionFeedback)
        .where(SessionFeedback.case_id == case.id, SessionFeedback.respondent == Respondent.CHILD)
        .values(comment="")
    )
    if child.user_id is not None:
        db.session.execute(
            update(PlanResponse)
            .where(PlanResponse.responder_id == child.user_id)
            .values(comment="")
        )
    case.status = CaseStatus.DISCHARGED
    request.status = DataRequestStatus.COMPLETED
    request.completed_at = utcnow()
    request.completed_by_id = admin.id
    # The msgids, one a line: each reader reads them in their own language (`retained_lines`).
    request.retained = "\n".join(msgid_of(line) for line in RETAINED_RECORDS)
    db.session.flush()
    return request


# The admin queue's sort keys (IN-01: an allowlist, never the parameter itself).
REQUEST_SORTS = {
    "requested": DataRequest.requested_at,
    "status": DataRequest.status,
    "case": DataRequest.case_id,
}


def requests_for_admin(admin: User, order: Any = None) -> list[DataRequest]:
    return list(
        db.session.scalars(
            select(DataRequest)
            .join(Case, Case.id == DataRequest.case_id)
            .where(Case.clinic_id == admin.clinic_id)
            .order_by(order if order is not None else DataRequest.requested_at, DataRequest.id)
        )
    )


def get_request_for_admin(admin: User, request_id: int) -> DataRequest | None:
    return db.session.scalars(
        select(DataRequest)
        .join(Case, Case.id == DataRequest.case_id)
        .where(DataRequest.id == request_id, Case.clinic_id == admin.clinic_id)
    ).first()
