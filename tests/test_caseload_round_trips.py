"""The caseload ends its read transaction with a COMMIT (issue 17). It writes no audit row, so
nothing else commits it, and a ROLLBACK at the session's close makes psycopg forget the statements
it prepared and how often it saw each one: on PostgreSQL none of the page's statements was ever
prepared, and each was planned anew on every visit.

These need the app's own connections (the shared tests' requests run inside one rolled-back
transaction), so they run on a fresh database of their own (`live_app`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event, text
from sqlalchemy.pool import QueuePool

from portal.extensions import database
from tests.support.browser import Browser
from tests.support.rows import World

# psycopg prepares a statement the sixth time one connection runs it (prepare_threshold 5).
VISITS = 8


@contextmanager
def _transaction_ends(engine: Engine) -> Iterator[list[str]]:
    ends: list[str] = []

    def commit(_connection: Any) -> None:
        ends.append("commit")

    def rollback(_connection: Any) -> None:
        ends.append("rollback")

    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    try:
        yield ends
    finally:
        event.remove(engine, "commit", commit)
        event.remove(engine, "rollback", rollback)


def _therapist(app: Flask) -> Browser:
    browser = Browser(app.test_client())
    browser.login("t1@clinic.test")
    return browser


def test_the_caseload_commits_its_read_transaction(live_app: tuple[Flask, World, int]) -> None:
    app, _world, _thread_id = live_app
    browser = _therapist(app)
    browser.get("/caseload")  # the sign-in check's touch of the session is behind us
    with _transaction_ends(database.for_app(app).engine) as ends:
        response = browser.get("/caseload")
    assert response.status_code == 200
    assert ends == ["commit"]


def test_the_caseload_statements_are_prepared_on_postgresql(
    live_app: tuple[Flask, World, int],
) -> None:
    app, _world, _thread_id = live_app
    engine = database.for_app(app).engine
    if engine.dialect.name != "postgresql":
        pytest.skip("psycopg's prepared statements")
    browser = _therapist(app)
    for _ in range(VISITS):
        assert browser.get("/caseload").status_code == 200
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    prepared: list[str] = []
    with ExitStack() as stack:  # every connection of the pool: the one the pages used is among them
        for _ in range(pool.checkedin()):
            connection = stack.enter_context(engine.connect())
            found = connection.execute(text("SELECT statement FROM pg_prepared_statements"))
            prepared += [" ".join(statement.split()) for (statement,) in found]
    assert any(s.startswith("SELECT cases.id, cases.status, children.first_name") for s in prepared)
