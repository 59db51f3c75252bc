"""One audit row per request that touches a child's record, written centrally (LG-01, LG-07).

Every view of a child's record declares what it records with `@audited(action, <object>="<path
argument>")`: the action of a change (create / update / delete; print / export for such reads)
and which path argument names the object a refusal is about. Views without the decorator (sign-in,
invitations: they record their own events with `portal.audit.record`) are not traced.

The scoped loaders (`portal/*/queries.py`) call `accessed(...)` for what they found; the most
specific object of the request wins (a goal over its plan, a plan over its case). The row is then
written once:

- for a change (POST), just before the view's commit, in the same transaction: if the audit insert
  fails, the change rolls back with it (LG-06);
- for a read, after the view answered (the page was produced); a background poll answering 204
  (nothing new) or a long-lived stream writes nothing;
- for a denial (403, or a 404 from a matched route), after the error page: the request's own work
  is rolled back and one `outcome=denied` row is committed, carrying only ids (LG-07): the object
  the view declared, and its child. A 404 for an id that does not exist at all is
  `outcome=not_found`.

Sign-in events (LG-02) are recorded where they happen, with `portal.audit.record`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal import audit, db
from portal import models as m
from portal.extensions import database
from portal.session_state import signed_in

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# How specific an object is: the most specific one a request touched names its row.
SPECIFICITY = {"case": 0, "goal": 2, "ladder_step": 2, "intervention": 2}
# Actions a view may declare: the kind of change, or the kind of read (a page is "read").
CHANGES = frozenset({"create", "update", "delete"})
READS = frozenset({"read", "print", "export"})

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Declared:
    """What a view records: `action` for a change (GETs are "read" unless it says print/export)
    and the object a refusal names: `object_type` found by the path argument `id_arg`."""

    action: str
    object_type: str | None
    id_arg: str | None

    def action_for(self, method: str) -> str:
        if method in SAFE_METHODS:
            return self.action if self.action in READS else "read"
        return self.action


def audited(action: str, **target: str) -> Callable[[F], F]:
    """Declare what a view of a child's record audits: `@audited("delete", goal="goal_id")`."""
    if action not in CHANGES | READS:
        raise ValueError(f"unknown audit action {action!r}")
    if len(target) > 1 or any(kind not in CASE_OF for kind in target):
        raise ValueError(f"one object of {sorted(CASE_OF)} at most, not {target}")
    ((object_type, id_arg),) = target.items() if target else ((None, None),)

    def mark(view: F) -> F:
        view.audit = Declared(action, object_type, id_arg)  # type: ignore[attr-defined]
        return view

    return mark


@dataclass
class Access:
    object_type: str
    object_id: int
    case_id: int | None
    child_id: int | None
    written: bool = False


def accessed(
    object_type: str, object_id: int, *, case_id: int | None = None, child_id: int | None = None
) -> None:
    """A scoped loader found `object_type` #`object_id` for the current user."""
    if not has_request_context():
        return
    current: Access | None = g.get("audit_access")
    rank = SPECIFICITY.get(object_type, 1)
    if current is not None:
        if SPECIFICITY.get(current.object_type, 1) > rank:
            # The row keeps the more specific object, and learns its child from the case loaded
            # after it (issue 17: no query for the child when the row is written).
            if current.child_id is None and child_id is not None and case_id == current.case_id:
                current.child_id = child_id
            return
        case_id = case_id or current.case_id
        child_id = child_id or current.child_id
    g.audit_access = Access(object_type, object_id, case_id, child_id)


def _declared() -> Declared | None:
    view = current_app.view_functions.get(request.endpoint or "")
    declared: Declared | None = getattr(view, "audit", None)
    return declared


def _child_of(access: Access) -> int | None:
    if access.child_id is None and access.case_id is not None:
        case = db.session.get(m.Case, access.case_id)  # in the identity map: no query
        access.child_id = case.child_id if case else None
    return access.child_id


def _write(declared: Declared, access: Access, outcome: str) -> None:
    access.written = True
    audit.record(
        db.session,
        action=declared.action_for(request.method),
        outcome=outcome,
        child_id=_child_of(access),
        object_type=access.object_type,
        object_id=access.object_id,
    )


def _is_background() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "is_background", False))


def _before_commit(session: Session) -> None:
    """A change is audited in its own transaction, just before it commits (LG-06)."""
    if not has_request_context() or request.method in SAFE_METHODS:
        return
    if session is not g.get("db_session"):
        return
    access: Access | None = g.get("audit_access")
    if access is None or access.written or g.get("audit_recorded"):
        return
    declared = _declared()
    if declared is None or _is_background():
        return
    _write(declared, access, "success")


# ---- denials: the object the view declared, does it exist, and whose record is it? ---------


def _owned(model: Any) -> Callable[[int], Select[Any]]:
    return lambda oid: select(model.case_id).where(model.id == oid)


def _via(child: Any, parent_key: Any, parent: Any) -> Callable[[int], Select[Any]]:
    return lambda oid: (
        select(parent.case_id).join(child, parent_key == parent.id).where(child.id == oid)
    )


# Each kind of object a view may name, and how to find the case it belongs to.
CASE_OF: dict[str, Callable[[int], Select[Any]]] = {
    "case": lambda oid: select(m.Case.id).where(m.Case.id == oid),
    "plan": _owned(m.PlanVersion),
    "goal": _via(m.Goal, m.Goal.plan_version_id, m.PlanVersion),
    "intervention": _via(m.Intervention, m.Intervention.plan_version_id, m.PlanVersion),
    "problem": _owned(m.Problem),
    "task": _owned(m.CaseTask),
    "ladder": _owned(m.Ladder),
    "ladder_step": _via(m.LadderStep, m.LadderStep.ladder_id, m.Ladder),
    "practice": _owned(m.PracticeAttempt),
    "step_suggestion": _owned(m.StepSuggestion),
    "reward": _owned(m.Reward),
    "redemption": _owned(m.Redemption),
    "message_thread": _owned(m.MessageThread),
    "therapy_session": _owned(m.TherapySession),
    "feedback": _owned(m.SessionFeedback),
    "alert": _owned(m.CareAlert),
    "family_note": _owned(m.FamilyNote),
    "invitation": _owned(m.Invitation),
    "care_team_link": _owned(m.CaseTherapist),
    "guardian_link": _owned(m.GuardianLink),
}


def _record_denial(declared: Declared, status: int) -> None:
    """One row for a refused request, ids only: the object the view declared, whether it
    exists, and whose record it belongs to."""
    db.session.rollback()  # nothing the refused request did is kept
    g.pop("audit_access", None)  # what it loaded before being refused is not a success
    object_id: int | None = None
    child_id: int | None = None
    outcome = "denied"
    value = (request.view_args or {}).get(declared.id_arg or "")
    if declared.object_type is not None and isinstance(value, int):
        object_id = value
        case_id = db.session.scalar(CASE_OF[declared.object_type](value))
        if case_id is None:
            outcome = "not_found" if status == 404 else "denied"
        else:
            child_id = db.session.scalar(select(m.Case.child_id).where(m.Case.id == case_id))
    audit.record(
        db.session,
        action=declared.action_for(request.method),
        outcome=outcome,
        child_id=child_id,
        object_type=declared.object_type if object_id is not None else None,
        object_id=object_id,
    )
    db.session.commit()  # commit point: the denial row, after the refused work was rolled back


SIGN_IN_VIEWS = {"auth.login": "email", "auth.kids_login": "username"}


def _record_lockout() -> None:
    """LG-02: a throttled sign-in (AU-03). The account's id when the name matches one; the typed
    name itself is never stored."""
    field = SIGN_IN_VIEWS[request.endpoint or ""]
    typed = (request.form.get(field) or "").strip().lower()
    column = m.User.email if field == "email" else m.User.username
    user_id = db.session.scalar(select(m.User.id).where(column == typed)) if typed else None
    audit.record(
        db.session,
        action="login",
        outcome="denied",
        object_type="user",
        object_id=user_id,
        detail="throttled",
        actor=None,
    )
    db.session.commit()  # commit point: the throttled sign-in's row


def _after_request(response: Response) -> Response:
    status = response.status_code
    if status == 429 and request.endpoint in SIGN_IN_VIEWS and request.method == "POST":
        _record_lockout()
        return response
    if status >= 500:  # nothing was done; and a 503 means the database is away (RL-07)
        return response
    declared = _declared()
    if declared is None or not signed_in():
        return response
    # The answer is decided: a reads-first request (portal.web.reads_first) that has not written
    # takes the write lock for its row, without reading again what it decided on.
    if request.method not in SAFE_METHODS:
        db.will_write(recheck=False)
    if status in (403, 404):
        _record_denial(declared, status)
        return response
    access: Access | None = g.get("audit_access")
    if access is None or access.written or g.get("audit_recorded"):
        return response
    if _is_background() and (status == 204 or response.is_streamed):
        return response
    _write(declared, access, "success" if status < 400 else "failure")
    db.session.commit()  # commit point: a read's row, after the view answered
    return response


def init_audit_trail(app: Flask) -> None:
    # On this app's own request sessions only: sessions made elsewhere (scripts, the CLI, tests'
    # own sessions) are not traced.
    database.for_app(app).session_events.append(("before_commit", _before_commit))
    app.after_request(_after_request)
