"""The audit trail (LG-01..LG-07): one append-only, hash-chained row per view, change, export,
denied attempt and sign-in event.

Rows are never deleted, and updated only once, by the sealer (`portal.audit.seal`), which fills
`sealed_seq`, `prev_hash` and `row_hash = sha256(prev_hash ‖ canonical row)` on a committed row
(the database refuses anything else: triggers, see the migrations), so an edit behind the
triggers' back is found by `portal.audit.verify_chain`. There are deliberately no foreign keys:
the trail must outlive the people and records it describes (a closed account or a deleted child
keeps its history).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow

OUTCOMES = ("success", "denied", "failure", "not_found")

# The stored fields a row's hash covers, in `portal.audit.canonical_row`'s order (not the id,
# not the hashes); also the fields of a row in the audit spool (`portal.audit_spool`).
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


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('success', 'denied', 'failure', 'not_found')", name="known_outcome"
        ),
        Index("ix_audit_log_child_time", "child_id", "created_at"),
        Index("ix_audit_log_actor_time", "actor_id", "created_at"),
        # The sealer's and verify's "not yet sealed" rows: a few, whatever the table's size.
        Index(
            "ix_audit_log_unsealed",
            "id",
            sqlite_where=text("sealed_seq IS NULL"),
            postgresql_where=text("sealed_seq IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column()
    actor_role: Mapped[str] = mapped_column(String(16))
    child_id: Mapped[int | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(32))
    source_ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[str | None] = mapped_column(String(200))
    # Filled by the sealer once the row is committed (None until then, a few seconds at most).
    sealed_seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64), unique=True)


class AuditSpoolMark(Base):
    """How much of one audit spool file the sealer has moved into `audit_log` (SQLite,
    `portal.audit_spool`): committed with the rows it moved, so no line is moved twice."""

    __tablename__ = "audit_spool_marks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    done: Mapped[int] = mapped_column(BigInteger)
