"""Retention (CO-04): `flask --app wsgi retention-purge` removes what is past the policy, tested by
travelling in time. A deleted child's retained record goes once both the retention years have
passed and the child has come of age; the other family is untouched; the audit trail says so."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import verify_chain
from portal.db import Base, utcnow
from portal.models import AuthSession, Case, Child, DataRequest, User
from portal.models.audit import AuditLog
from tests.support.browser import Browser
from tests.support.builders import seed_record
from tests.support.rows import World, state_hash

CASE_TABLES = tuple(
    name
    for name in sorted(Base.metadata.tables)
    if name not in ("audit_log", "clinics", "users", "outbox_emails", "service_policies")
)


def rows_of_case(db_session: Session, case_id: int) -> dict[str, int]:
    """How many rows of each table with a case_id column belong to the case."""
    counts = {}
    for name, table in Base.metadata.tables.items():
        if "case_id" in table.c:
            rows = db_session.execute(select(table).where(table.c.case_id == case_id)).all()
            counts[name] = len(rows)
    return counts


def complete_deletion(world: World, new_browser: Any, db_session: Session) -> None:
    guardian, admin = new_browser(), new_browser()
    guardian.login("g1@family.test")
    admin.login("a@clinic.test")
    guardian.post(f"/family/{world.case1.id}/data/deletion", {"confirm": "y"})
    request = db_session.scalars(select(DataRequest)).one()
    assert (
        admin.post(f"/admin/data-requests/{request.id}/complete", {"confirm": "y"}).status_code
        == 303
    )


def purge(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["retention-purge"])
    assert result.exit_code == 0, result.output
    return result.output


def test_CO04_a_deleted_childs_record_is_purged_only_after_the_policy(
    app: Flask, db_session: Session, world: World, new_browser: Any
) -> None:
    seed_record(app, db_session, world)
    case1, case2, child1 = world.case1.id, world.case2.id, world.case1.child_id
    c1, g1 = world.c1.id, world.g1.id
    complete_deletion(world, new_browser, db_session)
    other_family = state_hash(db_session, CASE_TABLES)  # includes case2; case1 checked below
    case2_rows = rows_of_case(db_session, case2)
    kept = rows_of_case(db_session, case1)
    assert kept["plan_versions"] and kept["practice_attempts"]

    # Seven years on, the child (10 today) is 17: not yet of age, the record stays.
    with time_machine.travel(utcnow() + timedelta(days=7 * 365 + 2), tick=False):
        output = purge(app)
    db_session.expire_all()
    assert "retention ended" not in output
    assert rows_of_case(db_session, case1) == kept

    # Twelve years on: seven years since the deletion and the child is 22. Everything goes.
    with time_machine.travel(utcnow() + timedelta(days=12 * 365 + 3), tick=False):
        output = purge(app)
    db_session.expire_all()
    assert f"case {case1} (retention ended)" in output
    assert all(count == 0 for count in rows_of_case(db_session, case1).values())
    assert db_session.get(Case, case1) is None
    assert db_session.get(Child, child1) is None
    assert db_session.get(User, c1) is None
    assert db_session.get(User, g1) is not None  # the guardian's own account stays
    assert rows_of_case(db_session, case2) == case2_rows
    assert state_hash(db_session, CASE_TABLES) != other_family  # case1's rows did go
    purged = db_session.scalars(select(AuditLog).where(AuditLog.action == "retention_purge")).one()
    assert (purged.child_id, purged.object_id, purged.actor_role) == (
        child1,
        case1,
        "system",
    )
    assert verify_chain(db_session) is None


def test_CO04_a_record_without_a_deletion_request_is_never_purged(
    app: Flask, db_session: Session, world: World
) -> None:
    before = rows_of_case(db_session, world.case1.id)
    with time_machine.travel(utcnow() + timedelta(days=30 * 365), tick=False):
        purge(app)
    db_session.expire_all()
    assert rows_of_case(db_session, world.case1.id) == before


def test_CO04_ended_sign_in_sessions_go_after_90_days(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    now = utcnow()
    old = AuthSession(user_id=world.g1.id, token_hash="a" * 64, ended_at=now - timedelta(days=91))
    recent = AuthSession(
        user_id=world.g1.id, token_hash="b" * 64, ended_at=now - timedelta(days=10)
    )
    db_session.add_all([old, recent])
    db_session.commit()
    old_id, recent_id = old.id, recent.id

    output = purge(app)

    db_session.expire_all()
    assert db_session.get(AuthSession, old_id) is None
    assert db_session.get(AuthSession, recent_id) is not None
    assert "1 ended sign-in session(s)" in output
