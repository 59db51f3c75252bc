"""Issue 9 and RL-05 together: on SQLite a page view (GET) reads in a deferred transaction, so it
never queues behind a writer, while every request that may write still takes the write lock when
its transaction begins (trap D7). The sign-in check that touches `last_active_at` on a GET says so
first (`will_write`) and then writes IMMEDIATE as well."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event, func, select, text

from portal.db import build_engine, get_session, will_write
from portal.extensions import database
from portal.models import AuditLog
from tests.support.browser import Browser
from tests.support.rows import World


@pytest.fixture()
def file_engine(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    path = tmp_path / "reads.db"
    engine = build_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
        connection.execute(text("INSERT INTO note (body) VALUES ('hello')"))
    yield engine, path
    engine.dispose()


def _other_writer_is_locked_out(path: Path) -> bool:
    other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return True
    finally:
        other.close()
    return False


@pytest.fixture()
def sqlite_app(app: Flask) -> Flask:
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("SQLite's locking only")
    return app


def test_a_page_view_reads_while_another_request_holds_the_write_lock(
    sqlite_app: Flask, file_engine: tuple[Engine, Path]
) -> None:
    engine, path = file_engine
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE note SET body = 'changing'")
    try:
        with sqlite_app.test_request_context("/family", method="GET"):
            started = time.monotonic()
            with engine.begin() as connection:
                body = connection.execute(text("SELECT body FROM note")).scalar_one()
            assert body == "hello"  # the last committed state, not the writer's half-done one
            assert time.monotonic() - started < 1  # did not wait for the 5 s busy timeout
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_post_takes_the_write_lock_when_its_transaction_begins(
    sqlite_app: Flask, file_engine: tuple[Engine, Path]
) -> None:
    engine, path = file_engine
    with sqlite_app.test_request_context("/family", method="POST"), engine.begin() as connection:
        connection.execute(text("SELECT body FROM note")).scalar_one()
        assert _other_writer_is_locked_out(path)
    with sqlite_app.test_request_context("/family", method="GET"), engine.begin() as connection:
        connection.execute(text("SELECT body FROM note")).scalar_one()
        assert not _other_writer_is_locked_out(path)


def test_a_get_that_announces_a_write_takes_the_write_lock(
    sqlite_app: Flask, file_engine: tuple[Engine, Path]
) -> None:
    engine, path = file_engine
    with sqlite_app.test_request_context("/family", method="GET"):
        from flask import current_app

        current_app.extensions["rapport_db"].sessionmaker.configure(bind=engine)
        try:
            session = get_session()
            session.execute(text("SELECT body FROM note"))
            assert not _other_writer_is_locked_out(path)
            will_write()
            session.execute(text("SELECT body FROM note"))
            assert _other_writer_is_locked_out(path)
            session.execute(text("UPDATE note SET body = 'touched'"))
            session.commit()
        finally:
            current_app.extensions["rapport_db"].sessionmaker.configure(
                bind=current_app.extensions["rapport_db"].engine
            )
    with engine.connect() as connection:
        assert connection.execute(text("SELECT body FROM note")).scalar_one() == "touched"


WRITES_AND_CONTROL = {"INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "ROLLBACK"}


@contextmanager
def _statements_sent(engine: Engine) -> Iterator[list[str]]:
    """The first three words of each statement `engine` sends meanwhile, upper-cased."""
    sent: list[str] = []

    def statement(_conn: Any, _cursor: Any, text_: str, *_args: Any) -> None:
        sent.append(" ".join(text_.split()[:3]).upper())

    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", statement)


def test_a_page_view_writes_its_audit_row_on_the_connection_it_read_on(
    live_app: tuple[Flask, World, int],
) -> None:
    """Issue 17: an audited page view reads in a deferred transaction, ends it and takes the write
    lock for its audit row on the same connection (COMMIT, BEGIN IMMEDIATE), not by committing
    the session and checking a connection out of the pool again; the row is committed before
    the answer."""
    app, _world, thread_id = live_app
    engine = database.for_app(app).engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's locking only")
    browser = Browser(app.test_client())
    browser.login("g1@family.test")
    with database.for_app(app).sessionmaker() as session:
        rows_before = session.scalar(select(func.count(AuditLog.id)))
    checkouts: list[object] = []

    def checkout(*_args: Any) -> None:
        checkouts.append(None)

    event.listen(engine, "checkout", checkout)
    try:
        with _statements_sent(engine) as sent:
            response = browser.get(f"/messages/{thread_id}")
    finally:
        event.remove(engine, "checkout", checkout)
    assert response.status_code == 200
    assert len(checkouts) == 1
    insert = sent.index("INSERT INTO AUDIT_LOG")
    assert sent[0] == "BEGIN"
    assert not [s for s in sent[1 : insert - 2] if s.split()[0] in WRITES_AND_CONTROL]
    assert sent[insert - 2 : insert] == ["COMMIT", "BEGIN IMMEDIATE"]
    assert sent[insert + 1 :] == []
    with database.for_app(app).sessionmaker() as session:
        assert session.scalar(select(func.count(AuditLog.id))) == rows_before + 1


def test_a_page_view_that_ends_child_mode_writes_under_the_write_lock(
    live_app: tuple[Flask, World, int],
) -> None:
    """D7: the child's screen, in child mode, finds the guardian's link ended and ends child mode
    before its 404. That page view read in a deferred transaction; its write must start one that
    holds the lock from its BEGIN (an upgraded reader can fail at once under load)."""
    from datetime import timedelta

    from portal.db import utcnow
    from portal.models import AuthSession, GuardianLink

    app, world, _thread_id = live_app
    engine = database.for_app(app).engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's locking only")
    browser = Browser(app.test_client())
    browser.login("g1@family.test")
    assert browser.post(f"/family/{world.case1.id}/child-mode").status_code == 303
    with database.for_app(app).sessionmaker() as session:
        session.get_one(GuardianLink, world.link1.id).valid_to = utcnow() - timedelta(seconds=1)
        session.commit()
    with _statements_sent(engine) as sent:
        assert browser.get("/me").status_code == 404
    update = sent.index("UPDATE AUTH_SESSIONS SET")
    begins = [s for s in sent[:update] if s.startswith("BEGIN")]
    assert begins[-1] == "BEGIN IMMEDIATE"
    with database.for_app(app).sessionmaker() as session:
        modes = session.scalars(
            select(AuthSession.child_mode_child_id).where(AuthSession.user_id == world.g1.id)
        ).all()
        assert set(modes) == {None}
