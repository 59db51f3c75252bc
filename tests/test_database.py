"""Database reliability (SECURITY RL-04, RL-05, RL-07; traps D6 and D7).

The constraint tests run on whichever database the suite uses (SQLite by default, PostgreSQL with
TEST_DATABASE_URL); the PRAGMA tests are SQLite-only and skip on PostgreSQL.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from portal import create_app
from portal.db import build_engine
from portal.extensions import database
from portal.models import ConsentAction, ConsentRecord, GuardianLink, Role, User
from portal.write_gate import GatedConnection, begin_immediate
from tests.support.browser import Browser
from tests.support.rows import PASSWORD, World


def app_engine(app: Flask) -> Engine:
    return database.for_app(app).engine


@pytest.fixture()
def sqlite_only(app: Flask) -> None:
    if app_engine(app).dialect.name != "sqlite":
        pytest.skip("SQLite connection settings; the suite runs on PostgreSQL")


# RL-04: the database itself refuses bad rows --------------------------------------------------


@pytest.mark.usefixtures("sqlite_only")
def test_RL04_every_pooled_sqlite_connection_enforces_foreign_keys(
    app: Flask, db_session: Session
) -> None:
    assert db_session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    engine = app_engine(app)
    checked_out = [engine.raw_connection() for _ in range(4)]  # four at once: four connections
    try:
        drivers = {id(connection.driver_connection) for connection in checked_out}
        assert len(drivers) == 4
        for connection in checked_out:
            cursor = connection.cursor()
            assert cursor.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
            cursor.close()
    finally:
        for connection in checked_out:
            connection.close()


@pytest.mark.usefixtures("sqlite_only")
def test_RL04_a_brand_new_engine_turns_foreign_keys_on_too(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        for _ in range(3):
            with engine.connect() as connection:
                assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            engine.dispose()  # the next checkout is a brand-new connection
    finally:
        engine.dispose()


def guardian_link(world: World, **overrides: Any) -> GuardianLink:
    fields: dict[str, Any] = {
        "case_id": world.case1.id,
        "guardian_id": world.g2.id,
        "relationship_label": "Aunt",
        "created_by_id": world.t1.id,
    }
    fields.update(overrides)
    return GuardianLink(**fields)


@pytest.mark.parametrize(
    ("what", "overrides"),
    [
        ("a case that does not exist", {"case_id": 999_999}),
        ("a guardian who does not exist", {"guardian_id": 999_999}),
        ("a second link for the same guardian and case", {"guardian_id": "g1"}),
        ("consent without legal authority", {"has_legal_authority": False, "can_consent": True}),
    ],
)
def test_RL04_the_database_refuses_an_invalid_guardian_link(
    world: World, db_session: Session, what: str, overrides: dict[str, Any]
) -> None:
    if overrides.get("guardian_id") == "g1":
        overrides = {**overrides, "guardian_id": world.g1.id}
    links_before = db_session.scalar(select(func.count()).select_from(GuardianLink))
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(guardian_link(world, **overrides))
    assert db_session.scalar(select(func.count()).select_from(GuardianLink)) == links_before


@pytest.mark.parametrize(
    "fields",
    [
        {"role": Role.CHILD, "display_name": "No Name"},  # a child needs a username
        {"role": Role.GUARDIAN, "display_name": "G", "email": "x@y.test", "is_admin": True},
        {"role": Role.THERAPIST, "display_name": "T", "email": "t@y.test"},  # needs a clinic
        {"role": Role.GUARDIAN, "display_name": "Dup", "email": "g1@family.test"},
    ],
)
def test_RL04_the_database_refuses_an_invalid_user(
    world: World, db_session: Session, fields: dict[str, Any]
) -> None:
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(User(**fields))


def first_consent_record(db_session: Session, world: World) -> dict[str, Any]:
    row = db_session.execute(
        select(ConsentRecord.__table__)
        .where(ConsentRecord.case_id == world.case1.id)
        .order_by(ConsentRecord.id)
        .limit(1)
    ).one()
    return dict(row._mapping)


@pytest.mark.parametrize(
    "change",
    [
        lambda record_id: (
            update(ConsentRecord.__table__)
            .where(ConsentRecord.id == record_id)
            .values(action=ConsentAction.REVOKED.value)
        ),
        lambda record_id: (
            update(ConsentRecord.__table__)
            .where(ConsentRecord.id == record_id)
            .values(document_version="backdated")
        ),
        lambda record_id: delete(ConsentRecord.__table__).where(ConsentRecord.id == record_id),
        lambda record_id: delete(ConsentRecord.__table__),
    ],
    ids=["update action", "update version", "delete one", "delete all"],
)
def test_RL04_consent_records_are_append_only_in_the_database(
    world: World, db_session: Session, change: Any
) -> None:
    before = first_consent_record(db_session, world)
    count_before = db_session.scalar(select(func.count()).select_from(ConsentRecord))

    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(change(before["id"]))

    assert first_consent_record(db_session, world) == before
    assert db_session.scalar(select(func.count()).select_from(ConsentRecord)) == count_before


def test_RL04_an_orm_edit_of_a_consent_record_is_refused_too(
    world: World, db_session: Session
) -> None:
    record = db_session.scalars(
        select(ConsentRecord).where(ConsentRecord.case_id == world.case1.id)
    ).first()
    assert record is not None
    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        record.action = ConsentAction.REVOKED
        db_session.flush()


# RL-05: SQLite write concurrency --------------------------------------------------------------


@pytest.fixture()
def counter_engine(tmp_path: Path) -> Iterator[Engine]:
    """A temp-file SQLite database (WAL needs a real file) with one counter row."""
    engine = build_engine(f"sqlite:///{tmp_path / 'counter.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)"))
        connection.execute(text("INSERT INTO counter (id, value) VALUES (1, 0)"))
    yield engine
    engine.dispose()


def test_RL05_eight_writers_never_lose_an_increment(counter_engine: Engine) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def increment_a_hundred_times() -> None:
        start.wait()
        for _ in range(100):
            try:
                with counter_engine.begin() as connection:  # read, then write: the D7 pattern
                    value = connection.execute(
                        text("SELECT value FROM counter WHERE id = 1")
                    ).scalar_one()
                    connection.execute(
                        text("UPDATE counter SET value = :value WHERE id = 1"),
                        {"value": value + 1},
                    )
            except Exception as exc:  # collected, so the assertion shows them
                errors.append(exc)

    threads = [threading.Thread(target=increment_a_hundred_times) for _ in range(8)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    with counter_engine.connect() as connection:
        assert connection.execute(text("SELECT value FROM counter")).scalar_one() == 800
    assert time.monotonic() - started < 60


def test_RL05_a_transaction_takes_the_write_lock_when_it_begins(
    counter_engine: Engine, tmp_path: Path
) -> None:
    """BEGIN IMMEDIATE: a second writer waits at its BEGIN instead of failing after reading."""
    other = sqlite3.connect(tmp_path / "counter.db", timeout=0, isolation_level=None)
    try:
        with counter_engine.begin() as connection:
            connection.execute(text("SELECT value FROM counter")).scalar_one()
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again once the first one committed
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_RL05_a_busy_database_is_waited_for_not_failed(
    counter_engine: Engine, tmp_path: Path
) -> None:
    holder = sqlite3.connect(tmp_path / "counter.db", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        with counter_engine.begin() as connection:  # waits up to busy_timeout (5 s)
            connection.execute(text("UPDATE counter SET value = value + 1"))
    finally:
        release.join()
        holder.close()
    with counter_engine.connect() as connection:
        assert connection.execute(text("SELECT value FROM counter")).scalar_one() == 1


def _lock_file_is_free(database: Path) -> bool:
    """Whether an outsider could take the app's writers' lock file right now."""
    fd = os.open(f"{database}.writers", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing lets go of a lock it took
    return True


def test_RL05_writers_hold_the_lock_file_for_exactly_their_transaction(
    counter_engine: Engine, tmp_path: Path
) -> None:
    """Issue 17: the app's writers queue at a lock file, which is held from BEGIN IMMEDIATE to
    the end of the transaction, however it ends."""
    database = tmp_path / "counter.db"
    assert _lock_file_is_free(database)
    with counter_engine.begin() as connection:
        connection.execute(text("UPDATE counter SET value = value + 1"))
        assert not _lock_file_is_free(database)
    assert _lock_file_is_free(database)  # committed

    with pytest.raises(RuntimeError), counter_engine.begin() as connection:
        connection.execute(text("UPDATE counter SET value = value + 1"))
        assert not _lock_file_is_free(database)
        raise RuntimeError("the view failed")
    assert _lock_file_is_free(database)  # rolled back

    connection = counter_engine.connect()
    connection.begin()
    assert not _lock_file_is_free(database)
    connection.close()  # handed back to the pool with its transaction open
    assert _lock_file_is_free(database)
    with counter_engine.connect() as reader:
        assert reader.execute(text("SELECT value FROM counter")).scalar_one() == 1


def test_RL05_a_second_writer_waits_at_the_lock_file_and_goes_in_when_it_is_free(
    counter_engine: Engine,
) -> None:
    entered = threading.Event()

    def second_writer() -> None:
        with counter_engine.begin() as connection:
            entered.set()
            connection.execute(text("UPDATE counter SET value = value * 10"))

    with counter_engine.begin() as connection:
        connection.execute(text("UPDATE counter SET value = value + 1"))
        waiter = threading.Thread(target=second_writer)
        waiter.start()
        assert not entered.wait(0.2)  # queued behind the first writer
    waiter.join(timeout=5)
    assert entered.is_set()
    with counter_engine.connect() as reader:  # in order: (0 + 1) * 10
        assert reader.execute(text("SELECT value FROM counter")).scalar_one() == 10


def test_RL05_a_lock_file_held_too_long_costs_at_most_the_busy_timeout(tmp_path: Path) -> None:
    """A stuck writer (or anything holding the lock file) makes the others wait the busy timeout
    once, not the lock file's wait and then SQLite's again (RL-07: an answer within 5 s)."""
    database = tmp_path / "stuck.db"
    stuck = os.open(f"{database}.writers", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(stuck, fcntl.LOCK_EX)
    connection = GatedConnection(str(database), timeout=0.3, isolation_level=None)
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        started = time.monotonic()
        begin_immediate(connection, connection.execute)  # only the lock file is taken: goes in
        assert 0.25 < time.monotonic() - started < 1
        connection.rollback()

        holder.execute("BEGIN IMMEDIATE")  # and now SQLite's lock too
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            begin_immediate(connection, connection.execute)
        assert time.monotonic() - started < 0.6  # 0.3 s at the lock file, none after it
        assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 300  # as it was

        os.close(stuck)  # the lock file is free, SQLite's lock is not: the BEGIN waits and fails
        stuck = -1
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            begin_immediate(connection, connection.execute)
        assert _lock_file_is_free(database)  # no transaction began, so none holds the file
    finally:
        holder.close()
        connection.close()
        if stuck != -1:
            os.close(stuck)


# RL-07: the database is unavailable -----------------------------------------------------------


def test_RL07_an_unreachable_database_answers_503_quickly_and_plainly(tmp_path: Path) -> None:
    unreachable = create_app(
        {
            "TESTING": True,
            "PORTAL_ENV": "test",
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'missing-dir' / 'rapport.db'}",
        }
    )
    try:
        browser = Browser(unreachable.test_client())
        assert browser.get("/login").status_code == 200  # no database needed to show the form
        started = time.monotonic()
        response = browser.post("/login", {"email": "t1@clinic.test", "password": PASSWORD})
        assert time.monotonic() - started < 5
        assert response.status_code == 503
        assert response.headers["Retry-After"]
        body = response.get_data(as_text=True)
        assert "Please try again in a minute" in body
        for leak in ("SELECT", "sqlite", "OperationalError", "Traceback", "missing-dir"):
            assert leak not in body, leak
    finally:
        database.for_app(unreachable).engine.dispose()


def test_request_sessions_hear_the_app_listeners_and_other_sessions_do_not(app: Flask) -> None:
    """The audit trail's listener is on this app's request sessions (LG-06: a change's row goes
    in before its commit), attached once to their class, not to each new session (issue 17);
    a session made from the app's sessionmaker (a script, the sealer) does not hear it."""
    from sqlalchemy import event

    from portal.audit_trail import _before_commit

    app_database = database.for_app(app)
    first, second = app_database.new_session(), app_database.new_session()
    other = app_database.sessionmaker()
    try:
        assert type(first) is type(second)
        assert event.contains(type(first), "before_commit", _before_commit)
        assert not event.contains(first, "before_commit", _before_commit)
        assert not event.contains(Session, "before_commit", _before_commit)
        assert not event.contains(type(other), "before_commit", _before_commit)
    finally:
        for session in (first, second, other):
            session.close()
