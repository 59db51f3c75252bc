"""The audit trail's public API (LG-01..LG-07).

`record(session, action=...)` appends one hash-chained row to `audit_log` inside the caller's
transaction: it is committed with the change it describes, or rolled back with it (LG-06).
`verify_chain(session)` walks the chain and returns the id of the first row that does not hash
to what it should, or None when the trail is intact (LG-04).

The chain head is serialised: SQLite write transactions are BEGIN IMMEDIATE already (one writer
at a time); on PostgreSQL `pg_advisory_xact_lock` is taken inside the same transaction, so two
concurrent requests never chain onto the same predecessor. The lock is released at commit.

Never put PHI, passwords or tokens in `detail`: it is a short machine word (e.g. "locked").
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from portal import db
from portal.db import utcnow
from portal.models.audit import OUTCOMES, AuditLog

GENESIS_HASH = "0" * 64
# Any constant; it names "the audit chain head" among PostgreSQL advisory locks.
CHAIN_LOCK_KEY = 0x52415054  # "RAPT"


def canonical_row(
    *,
    created_at: datetime,
    actor_id: int | None,
    actor_role: str,
    child_id: int | None,
    action: str,
    object_type: str | None,
    object_id: int | None,
    outcome: str,
    request_id: str | None,
    source_ip: str | None,
    detail: str | None,
) -> str:
    """Every stored field but the id and the hashes, in a fixed order, as compact JSON."""
    fields = [
        created_at.isoformat(timespec="microseconds"),
        actor_id,
        actor_role,
        child_id,
        action,
        object_type,
        object_id,
        outcome,
        request_id,
        source_ip,
        detail,
    ]
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=True)


def chain_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def request_id() -> str | None:
    """One random id per request, shared by every row that request writes."""
    if not has_request_context():
        return None
    if "audit_request_id" not in g:
        g.audit_request_id = uuid.uuid4().hex
    rid: str = g.audit_request_id
    return rid


def _actor_of(actor: Any) -> tuple[int | None, str]:
    if actor is None and has_request_context():
        actor = current_user
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, "anonymous" if has_request_context() else "system"
    return int(actor.id), str(actor.role.value)


def _lock_chain_head(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})


def record(
    session: Session,
    *,
    action: str,
    outcome: str = "success",
    child_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    actor: Any = None,
    detail: str | None = None,
) -> None:
    """Append one audit row in `session`'s current transaction (the caller commits).

    `actor` defaults to the signed-in user; request id and source address come from the request
    when there is one. An error here propagates, so the business change cannot commit without
    its row (LG-06).
    """
    values = row_values(
        created_at=utcnow(),
        action=action,
        outcome=outcome,
        child_id=child_id,
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        detail=detail,
    )
    append_row(session, values)
    if has_request_context():
        g.audit_recorded = True  # this request's row is written; the trail adds no second one


def row_values(
    *,
    created_at: datetime,
    action: str,
    outcome: str,
    child_id: int | None,
    object_type: str | None,
    object_id: int | None,
    actor: Any,
    detail: str | None,
) -> dict[str, Any]:
    """The stored fields of one row (the demo history uses it to date rows in the past)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    actor_id, actor_role = _actor_of(actor)
    return {
        "created_at": created_at,
        "actor_id": actor_id,
        "actor_role": actor_role,
        "child_id": child_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "outcome": outcome,
        "request_id": request_id(),
        "source_ip": request.remote_addr if has_request_context() else None,
        "detail": detail[:200] if detail else None,
    }


def append_row(session: Session, values: dict[str, Any]) -> None:
    """Chain the row onto the current head and insert it: two statements (three on PostgreSQL,
    with the lock), whatever the table's size."""
    if db.read_only_request():
        # A GET read in a deferred transaction; end it so this row is written in one that holds
        # SQLite's write lock from its start (D7), never an upgrade that can fail under load.
        db.will_write()
    _lock_chain_head(session)
    prev_hash = (
        session.scalar(select(AuditLog.row_hash).order_by(AuditLog.id.desc()).limit(1))
        or GENESIS_HASH
    )
    row_hash = chain_hash(prev_hash, canonical_row(**values))
    session.execute(insert(AuditLog).values(**values, prev_hash=prev_hash, row_hash=row_hash))


# The stored fields a row's hash covers, in canonical_row's order (not the id, not the hashes).
CHAINED_FIELDS = (
    "created_at",
    "actor_id",
    "actor_role",
    "child_id",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "request_id",
    "source_ip",
    "detail",
)
_CHAIN_COLUMNS = (
    AuditLog.id,
    *(getattr(AuditLog, name) for name in CHAINED_FIELDS),
    AuditLog.prev_hash,
    AuditLog.row_hash,
)


def verify_chain(session: Session) -> int | None:
    """The id of the first row whose link or hash is wrong (edited, inserted or the row after a
    deleted one), or None when every row chains onto the one before it."""
    expected_prev = GENESIS_HASH
    rows = session.execute(
        select(*_CHAIN_COLUMNS).order_by(AuditLog.id).execution_options(yield_per=2000)
    )
    try:
        for row in rows:
            fields = row._asdict()
            row_id = fields.pop("id")
            prev_hash = fields.pop("prev_hash")
            row_hash = fields.pop("row_hash")
            canonical = canonical_row(**fields)
            if prev_hash != expected_prev or row_hash != chain_hash(prev_hash, canonical):
                return int(row_id)
            expected_prev = row_hash
    finally:
        rows.close()  # PostgreSQL streams through a server-side cursor
    return None


def count_rows(session: Session) -> int:
    from sqlalchemy import func

    return int(session.scalar(select(func.count()).select_from(AuditLog)) or 0)
