"""LG-04: the audit trail is append-only in the database and hash-chained, so an edit made behind
the triggers' back is found at the row that was changed."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from portal.audit import record, verify_chain
from portal.models import AuditLog
from tests.support.rows import World


def _three_rows(session: Session, world: World) -> list[int]:
    for action in ("read", "update", "export"):
        record(
            session,
            action=action,
            actor=world.t1,
            child_id=world.case1.child_id,
            object_type="plan",
            object_id=7,
        )
    session.flush()
    ids = session.scalars(text("SELECT id FROM audit_log ORDER BY id DESC LIMIT 3")).all()
    return sorted(ids)


def test_LG04_a_fresh_chain_verifies(in_app: Session, world: World) -> None:
    _three_rows(in_app, world)
    assert verify_chain(in_app) is None
    row = in_app.scalars(text("SELECT id FROM audit_log ORDER BY id DESC LIMIT 1")).one()
    stored = in_app.get(AuditLog, row)
    assert stored is not None
    assert stored.actor_id == world.t1.id and stored.actor_role == "therapist"
    assert stored.created_at.utcoffset() is not None and stored.created_at.utcoffset().seconds == 0


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET action = 'read' WHERE id = :id", "DELETE FROM audit_log WHERE id = :id"],
)
def test_LG04_update_and_delete_through_the_app_session_fail(
    in_app: Session, world: World, statement: str
) -> None:
    first, _, _ = _three_rows(in_app, world)
    in_app.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        in_app.execute(text(statement), {"id": first})
    in_app.rollback()
    assert in_app.get(AuditLog, first) is not None
    assert verify_chain(in_app) is None


def _without_triggers(session: Session, sql: str, params: dict[str, object]) -> None:
    """Tamper the way an intruder with the owner's rights would: switch the guard off, edit,
    switch it back on."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DROP TRIGGER audit_log_no_update"))
        session.execute(text("DROP TRIGGER audit_log_no_delete"))
        session.execute(text(sql), params)
        session.execute(
            text(
                "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
        )
        session.execute(
            text(
                "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
        )
    else:
        session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
        session.execute(text(sql), params)
        session.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change"))


def test_LG04_an_edited_row_is_found_at_its_id(in_app: Session, world: World) -> None:
    _first, middle, _last = _three_rows(in_app, world)
    _without_triggers(
        in_app,
        "UPDATE audit_log SET actor_id = :other WHERE id = :id",
        {"other": 999, "id": middle},
    )
    assert verify_chain(in_app) == middle


def test_LG04_a_deleted_row_is_found_at_the_next_id(in_app: Session, world: World) -> None:
    _first, middle, last = _three_rows(in_app, world)
    _without_triggers(in_app, "DELETE FROM audit_log WHERE id = :id", {"id": middle})
    assert verify_chain(in_app) == last


def test_LG04_a_recomputed_hash_does_not_hide_an_edit(in_app: Session, world: World) -> None:
    """Rewriting one row's hash to match its new content breaks the next row's link."""
    from portal.audit import CHAINED_FIELDS, canonical_row, chain_hash

    _first, middle, last = _three_rows(in_app, world)
    row = in_app.get(AuditLog, middle)
    assert row is not None
    fields = {name: getattr(row, name) for name in CHAINED_FIELDS}
    fields["action"] = "read"
    forged = chain_hash(row.prev_hash, canonical_row(**fields))
    _without_triggers(
        in_app,
        "UPDATE audit_log SET action = 'read', row_hash = :forged WHERE id = :id",
        {"forged": forged, "id": middle},
    )
    in_app.expire_all()
    assert verify_chain(in_app) == last


def test_LG04_verify_command_reports_intact_and_broken(
    app: Flask, in_app: Session, world: World
) -> None:
    _first, middle, _last = _three_rows(in_app, world)
    in_app.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0, result.output
    assert "chain intact" in result.output
    _without_triggers(
        in_app, "UPDATE audit_log SET outcome = 'denied' WHERE id = :id", {"id": middle}
    )
    in_app.commit()
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code != 0
    assert f"row {middle}" in result.output
