"""LG-04: the audit trail is append-only in the database and hash-chained, so an edit made behind
the triggers' back is found at the row that was changed. Rows are written unsealed and chained by
the sealer after commit (issue 17): what is sealed is covered, and a row left unsealed too long is
reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from portal.audit import record, seal, verify_chain
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
    assert seal(session) is not None
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
        triggers = session.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'aud%'")
        ).all()
        for name, _ in triggers:
            session.execute(text(f"DROP TRIGGER {name}"))
        session.execute(text(sql), params)
        for _, create in triggers:
            session.execute(text(create))
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


def test_LG04_rows_are_written_unsealed_and_the_sealer_chains_them_once(
    in_app: Session, world: World
) -> None:
    record(in_app, action="read", actor=world.t1, child_id=world.case1.child_id)
    in_app.flush()
    row_id = in_app.scalars(text("SELECT id FROM audit_log ORDER BY id DESC LIMIT 1")).one()
    unsealed = in_app.execute(
        text("SELECT sealed_seq, prev_hash, row_hash FROM audit_log WHERE id = :id"), {"id": row_id}
    ).one()
    assert tuple(unsealed) == (None, None, None)
    assert verify_chain(in_app) is None  # a row a moment old is not late
    assert seal(in_app) == 1
    sealed = in_app.execute(
        text("SELECT sealed_seq, row_hash FROM audit_log WHERE id = :id"), {"id": row_id}
    ).one()
    assert sealed.sealed_seq is not None and sealed.row_hash is not None
    assert seal(in_app) == 0  # nothing left
    assert verify_chain(in_app) is None
    # The database lets a sealed row be sealed again no more than it lets it be edited.
    with pytest.raises(DatabaseError, match="append-only"):
        in_app.execute(
            text("UPDATE audit_log SET sealed_seq = sealed_seq + 1000 WHERE id = :id"),
            {"id": row_id},
        )
    in_app.rollback()


def test_LG04_sealing_cannot_change_what_a_row_says(in_app: Session, world: World) -> None:
    record(in_app, action="read", actor=world.t1, child_id=world.case1.child_id)
    in_app.flush()
    row_id = in_app.scalars(text("SELECT id FROM audit_log ORDER BY id DESC LIMIT 1")).one()
    with pytest.raises(DatabaseError, match="append-only"):
        in_app.execute(
            text(
                "UPDATE audit_log SET sealed_seq = 999999, prev_hash = 'x', row_hash = 'y', "
                "action = 'export' WHERE id = :id"
            ),
            {"id": row_id},
        )
    in_app.rollback()


def test_LG04_a_row_slipped_in_unsealed_with_an_old_date_is_reported(
    in_app: Session, world: World
) -> None:
    _three_rows(in_app, world)
    in_app.execute(
        text(
            "INSERT INTO audit_log (created_at, actor_role, action, outcome) "
            "VALUES (:at, 'system', 'read', 'success')"
        ),
        {"at": datetime.now(UTC) - timedelta(hours=2)},
    )
    forged = in_app.scalars(text("SELECT id FROM audit_log ORDER BY id DESC LIMIT 1")).one()
    assert verify_chain(in_app) == forged
    assert verify_chain(in_app, unsealed_grace=None) is None  # the sealed chain itself is whole


def test_LG04_a_row_that_commits_late_is_sealed_after_the_rows_sealed_before_it(
    in_app: Session, world: World
) -> None:
    """Ids come from a sequence and commit out of order: the chain follows sealing order."""
    _first, middle, last = _three_rows(in_app, world)
    in_app.execute(
        text(
            "INSERT INTO audit_log (id, created_at, actor_role, action, outcome) "
            "VALUES (:id, :at, 'system', 'read', 'success')"
        ),
        {"id": last + 50, "at": datetime.now(UTC)},
    )
    assert seal(in_app) == 1
    late = last + 25  # a smaller id than a row sealed already: its transaction committed later
    in_app.execute(
        text(
            "INSERT INTO audit_log (id, created_at, actor_role, action, outcome) "
            "VALUES (:id, :at, 'system', 'read', 'success')"
        ),
        {"id": late, "at": datetime.now(UTC)},
    )
    assert seal(in_app) == 1
    order = in_app.scalars(
        text("SELECT id FROM audit_log WHERE id >= :id ORDER BY sealed_seq"), {"id": middle}
    ).all()
    assert order == [middle, last, last + 50, late]
    assert verify_chain(in_app) is None
    _without_triggers(in_app, "UPDATE audit_log SET detail = 'x' WHERE id = :id", {"id": last + 50})
    assert verify_chain(in_app) == last + 50


def test_LG04_verify_command_reports_a_row_left_unsealed_and_audit_seal_seals(
    app: Flask, in_app: Session, world: World
) -> None:
    record(in_app, action="read", actor=world.t1, child_id=world.case1.child_id)
    in_app.commit()
    runner = app.test_cli_runner()
    fresh = runner.invoke(args=["audit-verify"])
    assert fresh.exit_code == 0, fresh.output  # written a moment ago: not late yet
    sealed = runner.invoke(args=["audit-seal"])
    assert sealed.exit_code == 0 and "rows sealed" in sealed.output
    assert in_app.scalar(text("SELECT count(*) FROM audit_log WHERE sealed_seq IS NULL")) == 0
    in_app.execute(
        text(
            "INSERT INTO audit_log (created_at, actor_role, action, outcome) "
            "VALUES (:at, 'system', 'read', 'success')"
        ),
        {"at": datetime.now(UTC) - timedelta(minutes=5)},
    )
    in_app.commit()
    late = runner.invoke(args=["audit-verify"])
    assert late.exit_code != 0
    assert "still unsealed" in late.output
