"""Reliability: "nothing lost" (SECURITY 2.10). A failure half-way through a write leaves nothing
behind (RL-01); a database that goes away answers 503 in time and gives the typed text back
(RL-07); timestamps are UTC and a DST change never reorders messages (RL-13)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import event, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal.db import Base, UTCDateTime
from portal.extensions import database
from portal.messages import services as messaging
from portal.models import Message, MessageThread, ThreadKind
from tests.support.browser import Browser
from tests.support.rows import World, state_hash
from tests.support.session import services_on

MESSAGE_TABLES = ("messages", "message_threads", "thread_reads", "message_notifications")


@contextmanager
def fault_at_insert(app: Flask, number: int, error: Callable[[], Exception]) -> Iterator[list[str]]:
    """Raise `error()` when the request's `number`-th INSERT reaches the database."""
    engine = database.for_app(app).engine
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            seen.append(statement.split("(")[0])
            if len(seen) == number:
                raise error()

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def database_gone() -> Exception:
    return OperationalError("INSERT", {}, ConnectionError("server closed the connection"))


@contextmanager
def database_away(app: Flask) -> Iterator[None]:
    """Every statement fails as if the server had gone."""
    engine = database.for_app(app).engine

    def gone(*_args: Any) -> None:
        raise database_gone()

    event.listen(engine, "before_cursor_execute", gone)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", gone)


@pytest.fixture()
def thread(app: Flask, db_session: Session, world: World) -> MessageThread:
    with services_on(app, db_session):
        opened = messaging.do_open_thread(world.t1, world.case1, ThreadKind.FAMILY)
    return opened


def send(browser: Browser, thread: MessageThread, body: str) -> Any:
    """Post a message (the CSRF token comes from the page seen at sign-in)."""
    browser.ensure_token()
    return browser.post(
        f"/messages/{thread.id}", {"body": body, "idempotency_key": str(uuid.uuid4())}
    )


# RL-01 ----------------------------------------------------------------------------------------


def test_RL01_a_failure_at_any_insert_of_a_send_leaves_no_row(
    app: Flask, db_session: Session, thread: MessageThread, browser: Browser
) -> None:
    """Fault the 1st, 2nd, ... INSERT of one send (message, read mark, outbox mail, notification,
    out-of-hours notice) until the send has fewer INSERTs than that and succeeds."""
    browser.login("g1@family.test")
    faulted = 0
    for number in range(1, 20):
        baseline = state_hash(db_session, MESSAGE_TABLES)
        with fault_at_insert(app, number, lambda: RuntimeError("fault injected")) as inserts:
            response = send(browser, thread, f"Fault at insert {number}")
        db_session.expire_all()
        if response.status_code == 303:
            assert len(inserts) < number
            break
        faulted += 1
        assert response.status_code == 500, number
        assert state_hash(db_session, MESSAGE_TABLES) == baseline, f"rows left at insert {number}"
    assert faulted >= 2, "the send should write several rows in one transaction"


# RL-07 ----------------------------------------------------------------------------------------


def test_RL07_database_gone_on_write_answers_503_within_5s_with_the_typed_text(
    app: Flask, db_session: Session, thread: MessageThread, browser: Browser
) -> None:
    browser.login("g1@family.test")
    before = state_hash(db_session, MESSAGE_TABLES)
    typed = "Can we move Thursday? <b>Leo</b> has a dentist appointment"

    started = time.monotonic()
    with fault_at_insert(app, 1, database_gone):
        response = send(browser, thread, typed)
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert elapsed < 5
    assert response.headers["Retry-After"]
    body = response.get_data(as_text=True)
    assert "Can we move Thursday? &lt;b&gt;Leo&lt;/b&gt; has a dentist appointment" in body
    assert "<b>Leo</b>" not in body
    for leak in (
        "csrf_token</label>",
        "idempotency",
        "OperationalError",
        "server closed",
        "INSERT",
    ):
        assert leak not in body, leak
    db_session.expire_all()
    assert state_hash(db_session, MESSAGE_TABLES) == before
    # The database is back: the very next send works.
    assert send(browser, thread, typed).status_code == 303


def test_RL07_an_htmx_request_gets_a_503_fragment_without_the_database(
    app: Flask, world: World, browser: Browser
) -> None:
    browser.login("g1@family.test")
    with database_away(app):
        response = browser.htmx("GET", f"/family/{world.case1.id}")
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert "Rapport is busy for a moment" in body and "<html" not in body


def test_RL07_a_password_is_never_shown_back(app: Flask, world: World, browser: Browser) -> None:
    browser.login("g1@family.test")
    browser.get("/account/password")
    with database_away(app):
        response = browser.post(
            "/account/password",
            {
                "current_password": "SENTINEL_PASSWORD_1",
                "new_password": "SENTINEL_PASSWORD_2",
                "confirm_password": "SENTINEL_PASSWORD_2",
            },
        )
    assert response.status_code == 503
    assert "SENTINEL_PASSWORD" not in response.get_data(as_text=True)


# RL-13 ----------------------------------------------------------------------------------------


def test_RL13_every_timestamp_column_is_stored_as_utc() -> None:
    for table in Base.metadata.tables.values():
        for column in table.columns:
            python_type = (
                getattr(column.type, "python_type", None)
                if not isinstance(column.type, UTCDateTime)
                else datetime
            )
            if python_type is datetime:
                assert isinstance(column.type, UTCDateTime), f"{table.name}.{column.name}"


def test_RL13_messages_across_the_autumn_dst_change_keep_their_order(
    app: Flask, db_session: Session, world: World, thread: MessageThread, browser: Browser
) -> None:
    # 2026-11-01: New York's clocks go back at 06:00 UTC, so 01:30 happens twice.
    times = [
        datetime(2026, 11, 1, 5, 20, tzinfo=UTC),  # 01:20 EDT
        datetime(2026, 11, 1, 5, 50, tzinfo=UTC),  # 01:50 EDT
        datetime(2026, 11, 1, 6, 10, tzinfo=UTC),  # 01:10 EST: earlier on the wall clock
        datetime(2026, 11, 1, 6, 40, tzinfo=UTC),  # 01:40 EST
    ]
    for number, moment in enumerate(times, start=1):
        with time_machine.travel(moment, tick=False), services_on(app, db_session):
            messaging.do_send_message(
                world.t1,
                thread,
                world.case1,
                body=f"DST message {number}",
                idempotency_key=str(uuid.uuid4()),
                now=moment,
            )
    stored = db_session.scalars(
        select(Message).where(Message.thread_id == thread.id).order_by(Message.seq)
    ).all()
    assert [m.created_at for m in stored] == times
    assert all(m.created_at.tzinfo is not None for m in stored)
    if database.for_app(app).engine.dialect.name == "postgresql":
        kinds = db_session.execute(
            text(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name = 'messages' AND column_name = 'created_at'"
            )
        ).scalar_one()
        assert kinds == "timestamp with time zone"
    browser.login("g1@family.test")
    page = browser.get(f"/messages/{thread.id}").get_data(as_text=True)
    positions = [page.index(f"DST message {n}") for n in range(1, 5)]
    assert positions == sorted(positions)


# RL-06 ----------------------------------------------------------------------------------------


class FakeSqlState(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def flaky_app(make_app: Any, failures: int, sqlstate: str) -> tuple[Flask, list[int]]:
    """A throwaway app whose test route fails `failures` times with `sqlstate`, then succeeds.
    On PostgreSQL the failure is the server's own (RAISE ... USING ERRCODE)."""
    from portal import db
    from portal.security import public
    from portal.web.retry import init_retry

    flaky = make_app()
    calls: list[int] = []

    @public
    def view() -> str:
        calls.append(1)
        if len(calls) <= failures:
            if db.session.get_bind().dialect.name == "postgresql":
                raise_it = f"RAISE EXCEPTION 'collide' USING ERRCODE = '{sqlstate}'"
                db.session.execute(text(f"DO $$ BEGIN {raise_it}; END $$"))
            raise OperationalError("UPDATE", {}, FakeSqlState(sqlstate))
        return "done"

    flaky.add_url_rule("/_test/flaky", "flaky", view)
    init_retry(flaky)
    return flaky, calls


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"])
def test_RL06_a_serialization_failure_or_deadlock_is_retried(make_app: Any, sqlstate: str) -> None:
    flaky, calls = flaky_app(make_app, failures=2, sqlstate=sqlstate)
    response = flaky.test_client().get("/_test/flaky")
    assert response.status_code == 200
    assert len(calls) == 3


def test_RL06_three_failures_give_up_with_503(make_app: Any) -> None:
    flaky, calls = flaky_app(make_app, failures=5, sqlstate="40001")
    response = flaky.test_client().get("/_test/flaky")
    assert response.status_code == 503
    assert len(calls) == 3


def test_RL06_other_database_errors_are_not_retried(make_app: Any) -> None:
    flaky, calls = flaky_app(make_app, failures=5, sqlstate="57014")  # query cancelled
    assert flaky.test_client().get("/_test/flaky").status_code == 503
    assert len(calls) == 1


def test_RL06_a_real_postgresql_deadlock_is_retried_to_success(app: Flask) -> None:
    """Two transactions lock two rows in opposite order: PostgreSQL kills one (40P01); with the
    retry both increments land."""
    import threading

    from portal.web.retry import retry_transient

    engine = database.for_app(app).engine
    if engine.dialect.name != "postgresql":
        pytest.skip("deadlock detection is PostgreSQL's (SQLite serialises writers)")
    with engine.begin() as setup:
        setup.execute(text("DROP TABLE IF EXISTS rl06_pair"))
        setup.execute(text("CREATE TABLE rl06_pair (id int PRIMARY KEY, n int NOT NULL)"))
        setup.execute(text("INSERT INTO rl06_pair VALUES (1, 0), (2, 0)"))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    tries: list[int] = []

    def worker(first: int, second: int) -> None:
        connection = engine.connect()
        attempt = [0]

        def transaction() -> None:
            attempt[0] += 1
            tries.append(first)
            with connection.begin():
                connection.execute(text("SET LOCAL deadlock_timeout = '50ms'"))
                connection.execute(
                    text("UPDATE rl06_pair SET n = n + 1 WHERE id = :i"), {"i": first}
                )
                if attempt[0] == 1:
                    barrier.wait(timeout=5)
                connection.execute(
                    text("UPDATE rl06_pair SET n = n + 1 WHERE id = :i"), {"i": second}
                )

        try:
            retry_transient(transaction, rollback=lambda: None)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=pair) for pair in ((1, 2), (2, 1))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors, errors
        assert len(tries) == 3  # one of the two was chosen as the deadlock victim and ran again
        with engine.connect() as check:
            assert check.execute(text("SELECT n FROM rl06_pair ORDER BY id")).scalars().all() == [
                2,
                2,
            ]
    finally:
        with engine.begin() as cleanup:
            cleanup.execute(text("DROP TABLE IF EXISTS rl06_pair"))


# RL-08 ----------------------------------------------------------------------------------------


def test_RL08_a_full_disk_answers_503_and_keeps_everything_saved(tmp_path: Any) -> None:
    """`PRAGMA max_page_count` pinned at the current size: the next page the database needs is
    "disk full". SQLite has already rolled back by then (D8); the handler copes."""
    from flask_migrate import upgrade
    from sqlalchemy import func
    from sqlalchemy.orm import sessionmaker

    from portal import create_app
    from tests.support.rows import build_world

    path = tmp_path / "full.db"
    full = create_app(
        {
            "TESTING": True,
            "PORTAL_ENV": "test",
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "DATABASE_URL": f"sqlite:///{path}",
        }
    )
    engine = database.for_app(full).engine
    try:
        with full.app_context():
            upgrade(revision="heads")
        setup = sessionmaker(bind=engine, expire_on_commit=False)()
        world = build_world(setup)
        with services_on(full, setup):
            opened = messaging.do_open_thread(world.t1, world.case1, ThreadKind.FAMILY)
        setup.close()
        browser = Browser(full.test_client())
        browser.login("g1@family.test")
        assert send(browser, opened, "Saved before the disk filled").status_code == 303
        with engine.connect() as check:
            saved = check.execute(select(Message.body).order_by(Message.id)).scalars().all()
        engine.dispose()

        def pin_size(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            pages = cursor.execute("PRAGMA page_count").fetchone()[0]
            cursor.execute(f"PRAGMA max_page_count = {pages}")
            cursor.close()

        event.listen(engine, "connect", pin_size)
        try:
            response = send(browser, opened, "A long note that needs new pages. " * 140)
        finally:
            event.remove(engine, "connect", pin_size)
            engine.dispose()

        assert response.status_code in (503, 507)
        assert "A long note that needs new pages." in response.get_data(as_text=True)
        with engine.connect() as check:
            assert check.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
            bodies = check.execute(select(Message.body).order_by(Message.id)).scalars().all()
            assert bodies == saved and "Saved before the disk filled" in bodies
            assert (
                check.execute(
                    select(func.count()).select_from(Base.metadata.tables["users"])
                ).scalar_one()
                >= 7
            )
        # Space again: the next send works.
        assert send(browser, opened, "After the clean-up").status_code == 303
    finally:
        engine.dispose()
