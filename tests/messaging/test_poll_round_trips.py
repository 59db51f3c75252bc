"""The idle poll's round trips on PostgreSQL (issue 17): a background GET runs its statements in
autocommit, so it sends no BEGIN and no ROLLBACK; a page still reads and writes its audit row in
one transaction (one COMMIT, and no second connection check-out between the read and the row).
What either writes is committed before it answers: a poll with news its audit row (LG-01), a poll
on an idle session the end of that session (SE-03).

These need the app's own connections (the shared tests' requests run inside one rolled-back
transaction), so they run on a fresh database of their own (`live_app`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import Engine, event, func, select

from portal.extensions import database
from portal.models import AuditLog, AuthSession, MessageThread
from tests.support.browser import Browser
from tests.support.rows import World

HTMX = {"HX-Request": "true"}


@contextmanager
def _transaction_state_at_each_statement(engine: Engine) -> Iterator[list[str]]:
    """psycopg's transaction status just before each statement is sent: IDLE means no
    transaction is open (in autocommit, nothing will be), INTRANS that a BEGIN went before."""
    seen: list[str] = []

    def before(connection: Any, *_args: Any) -> None:
        seen.append(connection.connection.dbapi_connection.info.transaction_status.name)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _postgres(app: Flask) -> Engine:
    engine = database.for_app(app).engine
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's round trips: SQLite's BEGIN sends nothing over a network")
    return engine


def _version(app: Flask, thread_id: int) -> int:
    with database.for_app(app).sessionmaker() as session:
        version = session.scalar(select(MessageThread.version).where(MessageThread.id == thread_id))
    assert version is not None
    return version


def _audit_rows(app: Flask) -> int:
    with database.for_app(app).sessionmaker() as session:
        return int(session.scalar(select(func.count(AuditLog.id))) or 0)


def _guardian(app: Flask) -> Browser:
    browser = Browser(app.test_client())
    browser.login("g1@family.test")
    return browser


def test_an_idle_poll_on_postgresql_opens_no_transaction(
    live_app: tuple[Flask, World, int],
) -> None:
    app, _world, thread_id = live_app
    engine = _postgres(app)
    browser = _guardian(app)
    poll = f"/messages/{thread_id}/updates?v={_version(app, thread_id)}"
    with _transaction_state_at_each_statement(engine) as seen:
        response = browser.client.get(poll, headers=HTMX)
    assert response.status_code == 204
    assert seen == ["IDLE", "IDLE"]  # the sign-in check and the version, neither after a BEGIN


def test_a_page_on_postgresql_reads_and_writes_its_audit_row_in_one_transaction(
    live_app: tuple[Flask, World, int],
) -> None:
    app, _world, thread_id = live_app
    engine = _postgres(app)
    browser = _guardian(app)
    before = _audit_rows(app)
    with _transaction_state_at_each_statement(engine) as seen:
        response = browser.get(f"/messages/{thread_id}")
    assert response.status_code == 200
    assert seen[0] == "IDLE"
    assert set(seen[1:]) == {"INTRANS"}  # the audit row's insert too: no COMMIT before it
    assert _audit_rows(app) == before + 1  # and it was committed before the answer


def test_a_poll_with_news_commits_its_audit_row(live_app: tuple[Flask, World, int]) -> None:
    app, _world, thread_id = live_app
    browser = _guardian(app)
    before = _audit_rows(app)
    stale = _version(app, thread_id) - 1
    response = browser.client.get(f"/messages/{thread_id}/updates?v={stale}", headers=HTMX)
    assert response.status_code == 200
    assert _audit_rows(app) == before + 1


def test_a_poll_on_an_idle_session_ends_it_for_good(live_app: tuple[Flask, World, int]) -> None:
    app, _world, thread_id = live_app
    browser = _guardian(app)
    poll = f"/messages/{thread_id}/updates?v={_version(app, thread_id)}"
    with time_machine.travel(timedelta(minutes=31), tick=False):
        response = browser.client.get(poll, headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?expired=1"
    with database.for_app(app).sessionmaker() as session:
        ended = session.scalars(select(AuthSession.end_reason)).all()
    assert "idle" in ended
