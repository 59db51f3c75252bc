"""The audit trail's public API (LG-01..LG-07).

`record(session, action=...)` inserts one row into `audit_log` inside the caller's transaction: it
is committed with the change it describes, or rolled back with it (LG-06). The insert takes no
lock and reads nothing, so unrelated requests never wait for each other (issue 17). On SQLite a
request that only read keeps its row in a spool file instead, which the sealer moves into the
table in its next round (`portal.audit_spool`): SQLite writes under one database-wide lock.

The evidence is a hash chain that a *sealer* extends after the rows are committed: `seal(session)`
takes the committed rows that have no `sealed_seq` yet, in id order, gives each the next
`sealed_seq` and `row_hash = sha256(prev_hash ‖ canonical row)` onto the last sealed row. Only one
sealer runs at a time (PostgreSQL: a try-lock that nobody else takes; SQLite: its write lock), and
it only ever sees committed rows, so a row whose transaction commits late (sequences commit out of
order) is simply sealed in a later round with a later `sealed_seq`: nothing can later appear
before a sealed row. The app seals on its own shortly after every commit that wrote audit rows
(`AUDIT_SEAL_DELAY`, one timer per process, batched); `flask --app wsgi audit-seal` does it from
the command line or a worker.

`verify_chain(session)` walks the sealed chain in `sealed_seq` order and returns the id of the
first row that does not hash to what it should (edited, inserted, or following a deleted row), or
of the first row left unsealed longer than the grace (a row inserted behind the app's back with an
old date, or a sealer that has stopped); None when the trail is intact. The database refuses
DELETE, and UPDATE except the sealer's one-time filling of `sealed_seq`, `prev_hash`, `row_hash`
on an unsealed row with every other field unchanged (triggers, see the migrations).

Never put PHI, passwords or tokens in `detail`: it is a short machine word (e.g. "locked").
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import uuid
import weakref
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from flask_login import current_user
from sqlalchemy import Engine, Table, bindparam, event, func, insert, select, text, update
from sqlalchemy.orm import Session

from portal import audit_spool, db
from portal.db import utcnow
from portal.models.audit import CHAINED_FIELDS, OUTCOMES, AuditLog

GENESIS_HASH = "0" * 64
# Any constant; it names "the audit sealer" among PostgreSQL advisory locks. Only the sealer
# takes it (with a try-lock): requests never do.
SEAL_LOCK_KEY = 0x52415054  # "RAPT"
# Rows chained per statement batch by one seal.
SEAL_BATCH = 2000
# A row still unsealed this long after it was written is reported by verify_chain.
UNSEALED_GRACE = timedelta(seconds=60)
# session.info key: this session's transaction inserted audit rows (seal after its commit).
_UNSEALED = "audit_unsealed"

log = logging.getLogger(__name__)


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
    """Every stored field but the id, the seal and the hashes, in a fixed order, as compact
    JSON."""
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
        actor = current_user._get_current_object()
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, "anonymous" if has_request_context() else "system"
    return int(actor.id), str(actor.role.value)


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
    """Insert the row unsealed: one statement, no lock, whatever the table's size. The sealer
    chains it once its transaction has committed. A request that only read keeps its row in the
    audit spool instead, on SQLite (`portal.audit_spool`)."""
    if db.read_only_request() and _spooled(session, values):
        return
    # A GET, or a reads-first POST (portal.web.reads_first), read in a deferred transaction; end
    # it so this row is written in one that holds SQLite's write lock from its start (D7), never
    # an upgrade that can fail under load. Anything else holds the lock already: no-op.
    db.will_write()
    # Through the connection, after the flush `session.execute` would do (the change this row
    # describes goes first): the insert needs none of the session's ORM work (issue 17).
    db.flushed_connection(session).execute(_INSERT_ROW, values)
    session.info[_UNSEALED] = True


def _spooled(session: Session, values: dict[str, Any]) -> bool:
    """Keep a read's row in the spool file of this process when the app spools (SQLite, outside
    tests) and the file takes it whole; the sealer moves it into the table."""
    if not has_request_context() or not current_app.config.get("AUDIT_READ_SPOOL"):
        return False
    directory = _spool_directory(session)
    if directory is None:
        return False
    try:
        audit_spool.append(directory, values)
    except OSError:
        log.exception("audit spool not writable; the row goes to the database")
        return False
    _sealer_of(current_app._get_current_object()).soon()  # type: ignore[attr-defined]
    return True


def _spool_directory(session: Session) -> Path | None:
    engine = session.get_bind().engine
    if engine not in _SPOOL_DIRECTORIES:
        _SPOOL_DIRECTORIES[engine] = audit_spool.spool_directory(engine)
    return _SPOOL_DIRECTORIES[engine]


_SPOOL_DIRECTORIES: weakref.WeakKeyDictionary[Engine, Path | None] = weakref.WeakKeyDictionary()


_CONTENT_COLUMNS = (AuditLog.id, *(getattr(AuditLog, name) for name in CHAINED_FIELDS))
_TABLE = cast(Table, AuditLog.__table__)
# One row's insert, built once with the values bound (issue 17: building `insert().values(...)`
# anew for every row cost as much as sending it).
_INSERT_ROW = insert(_TABLE)
_SEAL_ROW = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"), _TABLE.c.sealed_seq.is_(None))
    .values(
        sealed_seq=bindparam("seal_seq"),
        prev_hash=bindparam("seal_prev"),
        row_hash=bindparam("seal_hash"),
    )
)


def _content(row: Any) -> str:
    fields = row._asdict()
    fields.pop("id")
    return canonical_row(**fields)


def seal(session: Session) -> int | None:
    """Chain every committed, unsealed row onto the sealed chain, in id order, in `session`'s
    transaction (the caller commits). Returns how many rows were sealed, or None when another
    sealer is at work (PostgreSQL; try again shortly)."""
    if session.get_bind().dialect.name == "postgresql":
        locked = session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEAL_LOCK_KEY}
        )
        if not locked:
            return None
    head = session.execute(
        select(AuditLog.sealed_seq, AuditLog.row_hash)
        .where(AuditLog.sealed_seq.is_not(None))
        .order_by(AuditLog.sealed_seq.desc())
        .limit(1)
    ).first()
    seq, prev_hash = (head[0] or 0, head[1] or GENESIS_HASH) if head else (0, GENESIS_HASH)
    directory = _spool_directory(session)
    if directory is not None:  # the reads' rows waiting in the spool join this round
        audit_spool.move_rows(session.connection(), directory)
    sealed = 0
    while True:
        rows = session.execute(
            select(*_CONTENT_COLUMNS)
            .where(AuditLog.sealed_seq.is_(None))
            .order_by(AuditLog.id)
            .limit(SEAL_BATCH)
        ).all()
        if not rows:
            break
        links = []
        for row in rows:
            seq += 1
            row_hash = chain_hash(prev_hash, _content(row))
            links.append(
                {"row_id": row.id, "seal_seq": seq, "seal_prev": prev_hash, "seal_hash": row_hash}
            )
            prev_hash = row_hash
        session.connection().execute(_SEAL_ROW, links)
        sealed += len(rows)
        if len(rows) < SEAL_BATCH:
            break
    session.info.pop(_UNSEALED, None)  # the sealer's own commit needs no sealer after it
    return sealed


def verify_chain(
    session: Session, *, unsealed_grace: timedelta | None = UNSEALED_GRACE
) -> int | None:
    """The id of the first sealed row whose link or hash is wrong (edited, inserted or the row
    after a deleted one); else, with `unsealed_grace`, the first row left unsealed longer than
    that; None when the trail is intact."""
    broken = _first_broken_link(session)
    if broken is not None or unsealed_grace is None:
        return broken
    return first_overdue(session, unsealed_grace)


def _first_broken_link(session: Session) -> int | None:
    expected_prev = GENESIS_HASH
    rows = session.execute(
        select(*_CONTENT_COLUMNS, AuditLog.prev_hash, AuditLog.row_hash)
        .where(AuditLog.sealed_seq.is_not(None))
        .order_by(AuditLog.sealed_seq)
        .execution_options(yield_per=2000)
    )
    try:
        for row in rows:
            fields = row._asdict()
            row_id = fields.pop("id")
            prev_hash = fields.pop("prev_hash")
            row_hash = fields.pop("row_hash")
            if prev_hash != expected_prev or row_hash != chain_hash(
                prev_hash, canonical_row(**fields)
            ):
                return int(row_id)
            expected_prev = row_hash
    finally:
        rows.close()  # PostgreSQL streams through a server-side cursor
    return None


def first_overdue(session: Session, grace: timedelta) -> int | None:
    """The first row still unsealed `grace` after it was written (partial index: cheap)."""
    row_id = session.scalar(
        select(AuditLog.id)
        .where(AuditLog.sealed_seq.is_(None), AuditLog.created_at < utcnow() - grace)
        .order_by(AuditLog.id)
        .limit(1)
    )
    return int(row_id) if row_id is not None else None


def spool_overdue(session: Session, grace: timedelta) -> list[str]:
    """The audit spool files holding rows written more than `grace` ago that no sealer has moved
    into the trail (SQLite; `portal.audit_spool`)."""
    directory = _spool_directory(session)
    if directory is None:
        return []
    older_than = time.time() - grace.total_seconds()
    return audit_spool.overdue_files(session.connection(), directory, older_than)


def count_rows(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditLog)) or 0)


def count_unsealed(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.sealed_seq.is_(None))
        )
        or 0
    )


# ---- sealing after commit, in the app ----------------------------------------------------------


class _Sealer:
    """One per app and process: after a commit that wrote audit rows, seal once `delay` seconds
    later (commits in the meantime share that round). A round that finds another sealer at work
    tries again after `delay`, so the rows it could not see yet are never left behind."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.timer: threading.Timer | None = None
        self.pid = os.getpid()

    def soon(self) -> None:
        delay = self.app.config.get("AUDIT_SEAL_DELAY")
        if delay is None:
            return
        with self.lock:
            if self.timer is not None and self.pid == os.getpid():
                return  # a round is already due; it will see this commit's rows
            self.pid = os.getpid()
            # Not a daemon: a process that exits seals its last rows first.
            self.timer = threading.Timer(float(delay), self._round)
            self.timer.start()

    def _round(self) -> None:
        with self.lock:
            self.timer = None
        try:
            with self.app.app_context():
                session = db.Database.for_app(self.app).sessionmaker()
                try:
                    sealed = seal(session)
                    session.commit()  # commit point: the audit sealer's round
                    tidy_spool(session)
                finally:
                    session.close()
        except Exception:  # the next commit or `audit-seal` seals these rows
            log.exception("audit seal failed")
            return
        if sealed is None:
            self.soon()


def tidy_spool(session: Session) -> None:
    """After a sealer's commit: delete the spool files it has finished with (SQLite)."""
    directory = _spool_directory(session)
    if directory is not None:
        audit_spool.tidy(session, directory)


def _sealer_of(app: Flask) -> _Sealer:
    sealer: _Sealer | None = app.extensions.get("audit_sealer")
    if sealer is None:
        sealer = app.extensions.setdefault("audit_sealer", _Sealer(app))
    return sealer


def _after_commit(session: Session) -> None:
    if session.info.pop(_UNSEALED, False) and has_app_context():
        _sealer_of(current_app._get_current_object()).soon()  # type: ignore[attr-defined]


def _after_rollback(session: Session) -> None:
    session.info.pop(_UNSEALED, None)


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_rollback", _after_rollback)
