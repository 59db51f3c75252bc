"""One audit row per request that touches a child's record, written centrally (LG-01, LG-07).

The scoped loaders (`portal/*/queries.py`) call `accessed(...)` for what they found; the most
specific object of the request wins (a goal over its plan, a plan over its case). The row is then
written once:

- for a change (POST), just before the view's commit, in the same transaction: if the audit insert
  fails, the change rolls back with it (LG-06);
- for a read, after the view answered (the page was produced); a background poll answering 204
  (nothing new) or a long-lived stream writes nothing;
- for a denial (403, or a 404 from a matched route), after the error page: the request's own work
  is rolled back and one `outcome=denied` row is committed, carrying only ids (LG-07). A 404 for an
  id that does not exist at all is `outcome=not_found`.

Sign-in events (LG-02) are recorded where they happen, with `portal.audit.record`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import Select, event, select
from sqlalchemy.orm import Session

from portal import audit, db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Blueprints whose events are recorded explicitly (sign-in, invitations), never by the trail.
SELF_RECORDING = frozenset({"auth", "invitations", "static"})
# How specific an object is: the most specific one a request touched names its row.
SPECIFICITY = {"case": 0, "goal": 2, "ladder_step": 2, "intervention": 2}

# The first word of a changing view's name says what kind of change it is.
CREATE_VERBS = frozenset(
    [
        "add",
        "open",
        "record",
        "invite",
        "log",
        "cheer",
        "suggest",
        "send",
        "start",
        "submit",
        "ask",
        "give",
        "answer",
        "respond",
        "assent",
        "request",
        "rate",
        "child",
    ]
)
DELETE_VERBS = frozenset({"remove", "end", "revoke", "retire", "delete", "close"})


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
            return
        case_id = case_id or current.case_id
        child_id = child_id or current.child_id
    g.audit_access = Access(object_type, object_id, case_id, child_id)


def action_of(endpoint: str, method: str) -> str:
    """read / print / export for GETs; create / update / delete for changes, from the view's
    name (`add_goal`, `remove_goal`, `save_goal`)."""
    name = endpoint.rsplit(".", 1)[-1]
    if method in SAFE_METHODS:
        if "print" in name:
            return "print"
        if "export" in name or "download" in name:
            return "export"
        return "read"
    verb = name.split("_", 1)[0]
    if verb in DELETE_VERBS:
        return "delete"
    if verb in CREATE_VERBS:
        return "create"
    return "update"


def _child_of(access: Access) -> int | None:
    if access.child_id is None and access.case_id is not None:
        from portal.models import Case

        case = db.session.get(Case, access.case_id)  # in the identity map: no query
        access.child_id = case.child_id if case else None
    return access.child_id


def _write(access: Access, outcome: str) -> None:
    access.written = True
    audit.record(
        db.session,
        action=action_of(request.endpoint or "", request.method),
        outcome=outcome,
        child_id=_child_of(access),
        object_type=access.object_type,
        object_id=access.object_id,
    )


def _is_background() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "is_background", False))


def _traced() -> bool:
    endpoint = request.endpoint
    return endpoint is not None and endpoint.split(".", 1)[0] not in SELF_RECORDING


def _before_commit(session: Session) -> None:
    """A change is audited in its own transaction, just before it commits (LG-06)."""
    if not has_request_context() or request.method in SAFE_METHODS:
        return
    if session is not g.get("db_session"):
        return
    access: Access | None = g.get("audit_access")
    if access is None or access.written or g.get("audit_recorded"):
        return
    if not _traced() or _is_background():
        return
    _write(access, "success")


# ---- denials: which object did the path name, and does it exist? --------------------------


def _case_of(arg: str, endpoint: str) -> tuple[str, Callable[[int], Select[Any]]] | None:
    from portal import models as m

    def owned(model: Any) -> Callable[[int], Select[Any]]:
        return lambda oid: select(model.case_id).where(model.id == oid)

    def via(child: Any, parent_key: Any, parent: Any) -> Callable[[int], Select[Any]]:
        return lambda oid: (
            select(parent.case_id).join(child, parent_key == parent.id).where(child.id == oid)
        )

    link_model = m.GuardianLink if "guardian" in endpoint else m.CaseTherapist
    targets: dict[str, tuple[str, Callable[[int], Select[Any]]]] = {
        "case_id": ("case", lambda oid: select(m.Case.id).where(m.Case.id == oid)),
        "plan_id": ("plan", owned(m.PlanVersion)),
        "goal_id": ("goal", via(m.Goal, m.Goal.plan_version_id, m.PlanVersion)),
        "item_id": (
            "intervention",
            via(m.Intervention, m.Intervention.plan_version_id, m.PlanVersion),
        ),
        "problem_id": ("problem", owned(m.Problem)),
        "task_id": ("task", owned(m.CaseTask)),
        "ladder_id": ("ladder", owned(m.Ladder)),
        "step_id": ("ladder_step", via(m.LadderStep, m.LadderStep.ladder_id, m.Ladder)),
        "attempt_id": ("practice", owned(m.PracticeAttempt)),
        "suggestion_id": ("step_suggestion", owned(m.StepSuggestion)),
        "reward_id": ("reward", owned(m.Reward)),
        "redemption_id": ("redemption", owned(m.Redemption)),
        "thread_id": ("message_thread", owned(m.MessageThread)),
        "session_id": ("therapy_session", owned(m.TherapySession)),
        "feedback_id": ("feedback", owned(m.SessionFeedback)),
        "alert_id": ("alert", owned(m.CareAlert)),
        "note_id": ("family_note", owned(m.FamilyNote)),
        "invitation_id": ("invitation", owned(m.Invitation)),
        "link_id": ("care_team_link", owned(link_model)),
    }
    return targets.get(arg)


def _record_denial(status: int) -> None:
    """One row for a refused request, ids only: the most specific id in the path, whether it
    exists, and whose record it belongs to."""
    from portal.models import Case

    db.session.rollback()  # nothing the refused request did is kept
    g.pop("audit_access", None)  # what it loaded before being refused is not a success
    object_type: str | None = None
    object_id: int | None = None
    child_id: int | None = None
    outcome = "denied"
    for arg, value in reversed(list((request.view_args or {}).items())):
        target = _case_of(arg, request.endpoint or "")
        if target is None or not isinstance(value, int):
            continue
        object_type, find_case = target
        object_id = value
        case_id = db.session.scalar(find_case(value))
        if case_id is None:
            outcome = "not_found" if status == 404 else "denied"
        else:
            child_id = db.session.scalar(select(Case.child_id).where(Case.id == case_id))
        break
    audit.record(
        db.session,
        action=action_of(request.endpoint or "", request.method),
        outcome=outcome,
        child_id=child_id,
        object_type=object_type,
        object_id=object_id,
    )
    db.session.commit()


SIGN_IN_VIEWS = {"auth.login": "email", "auth.kids_login": "username"}


def _record_lockout() -> None:
    """LG-02: a throttled sign-in (AU-03). The account's id when the name matches one; the typed
    name itself is never stored."""
    from portal.models import User

    field = SIGN_IN_VIEWS[request.endpoint or ""]
    typed = (request.form.get(field) or "").strip().lower()
    column = User.email if field == "email" else User.username
    user_id = db.session.scalar(select(User.id).where(column == typed)) if typed else None
    audit.record(
        db.session,
        action="login",
        outcome="denied",
        object_type="user",
        object_id=user_id,
        detail="throttled",
        actor=None,
    )
    db.session.commit()


def _after_request(response: Response) -> Response:
    status = response.status_code
    if status == 429 and request.endpoint in SIGN_IN_VIEWS and request.method == "POST":
        _record_lockout()
        return response
    if status >= 500:  # nothing was done; and a 503 means the database is away (RL-07)
        return response
    if not _traced() or not current_user.is_authenticated:
        return response
    if status in (403, 404):
        _record_denial(status)
        return response
    access: Access | None = g.get("audit_access")
    if access is None or access.written or g.get("audit_recorded"):
        return response
    if _is_background() and (status == 204 or response.is_streamed):
        return response
    _write(access, "success" if status < 400 else "failure")
    db.session.commit()
    return response


def init_audit_trail(app: Flask) -> None:
    if not getattr(init_audit_trail, "listening", False):
        event.listen(Session, "before_commit", _before_commit)
        init_audit_trail.listening = True  # type: ignore[attr-defined]
    app.after_request(_after_request)
