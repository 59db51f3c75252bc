"""The caseload's read transaction ends with a COMMIT on PostgreSQL (issue 17). It writes no audit
row, so nothing commits it; the session's close sends the COMMIT of a request that wrote nothing
(`portal.db`, tests/test_read_commits.py). A ROLLBACK would make psycopg forget the statements it
prepared and how often it saw each one: none of the page's statements would ever be prepared, and
each would be planned anew on every visit.

These need the app's own connections (the shared tests' requests run inside one rolled-back
transaction), so they run on a fresh database of their own (`live_app`)."""

from __future__ import annotations

import pytest
from flask import Flask

from portal.extensions import database
from tests.support.browser import Browser
from tests.support.rows import World
from tests.support.wire import prepared_statements, transaction_ends

# psycopg prepares a statement the sixth time one connection runs it (prepare_threshold 5).
VISITS = 8


def _therapist(app: Flask) -> Browser:
    browser = Browser(app.test_client())
    browser.login("t1@clinic.test")
    return browser


def _on_postgresql(app: Flask) -> None:
    if database.for_app(app).engine.dialect.name != "postgresql":
        pytest.skip("psycopg's transactions")


def test_the_caseload_commits_its_read_transaction(
    live_app: tuple[Flask, World, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _world, _thread_id = live_app
    _on_postgresql(app)
    browser = _therapist(app)
    browser.get("/caseload")  # the sign-in check's touch of the session is behind us
    with transaction_ends(monkeypatch) as ends:
        response = browser.get("/caseload")
    assert response.status_code == 200
    assert ends == ["commit-if-read"]


def test_the_caseload_statements_are_prepared_on_postgresql(
    live_app: tuple[Flask, World, int],
) -> None:
    app, _world, _thread_id = live_app
    _on_postgresql(app)
    browser = _therapist(app)
    for _ in range(VISITS):
        assert browser.get("/caseload").status_code == 200
    prepared = prepared_statements(database.for_app(app).engine)
    assert any(s.startswith("SELECT cases.id, cases.status, children.first_name") for s in prepared)
