"""Issue 17: a request reads a case's consent records once however many checks it makes, on a
POST too, and still sees a consent recorded (or withdrawn) earlier in the same request."""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal import db
from portal.cases.services import do_record_consent
from portal.extensions import database
from portal.models import ConsentAction, ConsentKind, ConsentMethod
from portal.policies import child_data_allowed, consent_in_force
from tests.support.rows import World


def test_a_post_reads_the_consent_records_once_and_sees_a_withdrawal_made_in_it(
    app: Flask, db_session: Session, world: World
) -> None:
    reads: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM consent_records" in statement:
            reads.append(statement)

    engine = database.for_app(app).engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        with app.test_request_context("/", method="POST"), db.bound(db_session):
            case = world.case1
            assert consent_in_force(case, ConsentKind.TREATMENT)
            assert child_data_allowed(case)
            assert consent_in_force(case, ConsentKind.TREATMENT)
            assert len(reads) == 1  # three checks, one read

            do_record_consent(
                world.t1,
                case,
                given_by=world.g1,
                kind=ConsentKind.TREATMENT,
                method=ConsentMethod.PAPER,
                action=ConsentAction.REVOKED,
            )
            assert not consent_in_force(case, ConsentKind.TREATMENT)  # read anew, after the flush
            assert not child_data_allowed(case)
            assert len(reads) == 2
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_rollback_forgets_the_consent_records_read_before_it(
    app: Flask, db_session: Session, world: World
) -> None:
    with app.test_request_context("/", method="POST"), db.bound(db_session):
        case = world.case1
        assert consent_in_force(case, ConsentKind.TREATMENT)
        assert case.id in g.consent_records
        db.session.rollback()
        assert "consent_records" not in g
