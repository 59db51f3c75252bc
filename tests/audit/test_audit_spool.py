"""A read's audit row on SQLite goes through the spool (issue 17, `portal.audit_spool`): the page
opens no write transaction for it, the sealer moves it into the trail and chains it, each row
exactly once, whether a worker dies before the sealer's round, a sealer dies before or after its
commit, or a line is half written; a spool that cannot be written sends the row to the database,
and `audit-verify` reports rows left in the spool."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event, func, select

from portal import audit_spool
from portal.audit import row_values, seal, tidy_spool, verify_chain
from portal.extensions import database
from portal.models import AuditLog, AuditSpoolMark
from tests.support.browser import Browser
from tests.support.concurrency import run_together
from tests.support.rows import World


@pytest.fixture()
def spooling(live_app: tuple[Flask, World, int]) -> Iterator[tuple[Flask, World, int, Path]]:
    app, world, thread_id = live_app
    engine = database.for_app(app).engine
    if engine.dialect.name != "sqlite":
        pytest.skip("the spool is SQLite's: PostgreSQL writes a read's row in its transaction")
    app.config["AUDIT_READ_SPOOL"] = True
    app.config["AUDIT_SEAL_DELAY"] = 0.05  # the app's own sealer, as in production
    directory = audit_spool.spool_directory(engine)
    assert directory is not None
    yield app, world, thread_id, directory


def _rows(engine: Engine, **where: Any) -> list[Any]:
    with engine.connect() as connection:
        statement = select(AuditLog).where(
            *(getattr(AuditLog, key) == value for key, value in where.items())
        )
        return list(connection.execute(statement.order_by(AuditLog.id)).all())


def _wait_for(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the sealer did not move the rows in time"
        time.sleep(0.02)


def _a_round(app: Flask) -> int | None:
    """One sealer's round, as the timer runs it."""
    with app.app_context():
        session = database.for_app(app).sessionmaker()
        try:
            sealed = seal(session)
            session.commit()
            tidy_spool(session)
            return sealed
        finally:
            session.close()


def _values(action: str = "read", object_id: int = 1) -> dict[str, Any]:
    values = row_values(
        created_at=datetime.now(UTC),
        action=action,
        outcome="success",
        child_id=7,
        object_type="case",
        object_id=object_id,
        actor=None,
        detail=None,
    )
    values["request_id"] = os.urandom(16).hex()
    return values


def test_LG01_a_page_view_takes_no_write_lock_and_its_row_is_sealed_moments_later(
    spooling: tuple[Flask, World, int, Path],
) -> None:
    app, world, thread_id, _directory = spooling
    engine = database.for_app(app).engine
    guardian = Browser(app.test_client())
    guardian.login("g1@family.test")
    _a_round(app)  # the rows of signing in are in the trail
    sent: list[str] = []
    page_thread = threading.get_ident()

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.get_ident() == page_thread:  # not the sealer's thread
            sent.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", watch)
    try:
        response = guardian.get(f"/messages/{thread_id}")
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert response.status_code == 200
    assert not [s for s in sent if s.startswith(("BEGIN IMMEDIATE", "INSERT", "UPDATE"))], sent
    assert any(s.startswith("BEGIN") for s in sent)  # it read, in a deferred transaction

    def the_row() -> list[Any]:
        return _rows(
            engine, object_type="message_thread", object_id=thread_id, actor_id=world.g1.id
        )

    _wait_for(lambda: the_row() and the_row()[0].sealed_seq is not None)
    (row,) = the_row()
    assert (row.action, row.outcome, row.actor_role, row.child_id) == (
        "read",
        "success",
        "guardian",
        world.case1.child_id,
    )
    assert row.request_id and row.source_ip and row.row_hash
    with app.app_context():
        from portal import db

        assert verify_chain(db.session) is None
        db.session.close()
    # The same view written at once (the spool off) gives the same row, field for field.
    app.config["AUDIT_READ_SPOOL"] = False
    assert guardian.get(f"/messages/{thread_id}").status_code == 200
    spooled, direct = the_row()
    fields = ("actor_id", "actor_role", "child_id", "action", "object_type", "object_id")
    assert [getattr(spooled, f) for f in fields] == [getattr(direct, f) for f in fields]
    assert (spooled.outcome, spooled.source_ip) == (direct.outcome, direct.source_ip)


def test_LG01_many_readers_and_writers_at_once_give_one_row_each_in_one_intact_chain(
    spooling: tuple[Flask, World, int, Path],
) -> None:
    app, world, thread_id, _directory = spooling
    engine = database.for_app(app).engine
    people = []
    for n in range(12):
        browser = Browser(app.test_client())
        browser.login("g1@family.test" if n % 2 else "t1@clinic.test")
        people.append(browser)
    _a_round(app)  # the rows of signing in (the page each lands on is a read) are in the trail
    before = len(_rows(engine))
    start = threading.Barrier(12)
    statuses: list[int] = []

    def work(n: int) -> None:
        start.wait()
        for _ in range(4):
            statuses.append(people[n].get(f"/messages/{thread_id}").status_code)  # spooled
            statuses.append(people[n].get(f"/cases/{world.case2.id}").status_code)  # a denial

    run_together([threading.Thread(target=work, args=(n,)) for n in range(12)])
    assert sorted(set(statuses)) == [200, 404]
    expected = before + len(statuses)
    _wait_for(lambda: len(_rows(engine)) >= expected and not _rows(engine, sealed_seq=None))
    _a_round(app)  # one more round finds nothing left to move
    assert len(_rows(engine)) == expected  # one row per request: none lost, none twice
    with app.app_context():
        from portal import db

        assert verify_chain(db.session) is None
        db.session.close()


def test_LG01_the_rows_of_a_worker_that_died_are_moved_once_and_its_file_deleted(
    spooling: tuple[Flask, World, int, Path],
) -> None:
    app, _world, _thread_id, directory = spooling
    engine = database.for_app(app).engine
    # A worker spools three rows and is killed before any sealer's round.
    worker = textwrap.dedent(
        f"""
        import os
        from datetime import UTC, datetime
        from pathlib import Path
        from portal import audit_spool
        for n in range(3):
            audit_spool.append(Path({str(directory)!r}), {{
                "created_at": datetime.now(UTC), "actor_id": 5, "actor_role": "guardian",
                "child_id": 7, "action": "read", "object_type": "case", "object_id": n,
                "outcome": "success", "request_id": "killed%d" % n, "source_ip": "127.0.0.1",
                "detail": None}})
        os.kill(os.getpid(), 9)
        """
    )
    died = subprocess.run([sys.executable, "-c", worker], check=False)
    assert died.returncode == -9
    assert len(list(directory.glob("*.rows"))) == 1
    _a_round(app)
    moved = [row for row in _rows(engine) if (row.request_id or "").startswith("killed")]
    assert sorted(row.object_id for row in moved) == [0, 1, 2]
    assert all(row.sealed_seq is not None for row in moved)
    assert not list(directory.glob("*.rows"))  # its writer is gone and every line is moved
    _a_round(app)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(AuditSpoolMark)) == 0
    assert len([r for r in _rows(engine) if (r.request_id or "").startswith("killed")]) == 3


def test_LG01_a_sealer_that_dies_before_or_after_its_commit_moves_no_row_twice(
    spooling: tuple[Flask, World, int, Path],
) -> None:
    app, _world, _thread_id, directory = spooling
    app.config["AUDIT_SEAL_DELAY"] = None  # this test runs the rounds itself
    engine = database.for_app(app).engine
    rows = [_values(object_id=n) for n in range(5)]
    for values in rows:
        audit_spool.append(directory, values)
    ids = {values["request_id"] for values in rows}

    def mine() -> int:
        return len([r for r in _rows(engine) if r.request_id in ids])

    with engine.connect() as connection:  # dies before its commit: nothing of it stays
        connection.begin()
        assert audit_spool.move_rows(connection, directory) == 5
        connection.rollback()
    assert mine() == 0
    with engine.connect() as connection:  # commits, then dies before it tidies
        connection.begin()
        assert audit_spool.move_rows(connection, directory) == 5
        connection.commit()
    assert mine() == 5
    with engine.connect() as connection:  # the next round finds nothing new
        connection.begin()
        assert audit_spool.move_rows(connection, directory) == 0
        connection.commit()
    audit_spool.append(directory, _values(object_id=99))  # the live writer goes on
    _a_round(app)
    assert mine() == 5
    assert len(list(directory.glob("*.rows"))) == 1  # this process still writes to it


def test_LG01_a_line_still_being_written_waits_for_the_next_round(
    spooling: tuple[Flask, World, int, Path],
) -> None:
    app, _world, _thread_id, directory = spooling
    engine = database.for_app(app).engine
    directory.mkdir(exist_ok=True)
    whole = audit_spool._encode(_values(object_id=1))
    half = audit_spool._encode(_values(object_id=2))
    spool = directory / "424242-half.rows"
    spool.write_bytes(whole + half[:40])
    with engine.begin() as connection:
        assert audit_spool.move_rows(connection, directory) == 1
    with spool.open("ab") as rest:
        rest.write(half[40:])
    with engine.begin() as connection:
        assert audit_spool.move_rows(connection, directory) == 1
        assert audit_spool.move_rows(connection, directory) == 0
    # A damaged line is not lost in silence, and does not stop the sealer.
    with spool.open("ab") as damaged:
        damaged.write(b'{"created_at": "yesterday"}\n' + audit_spool._encode(_values(object_id=3)))
    with engine.begin() as connection:
        assert audit_spool.move_rows(connection, directory) == 2
    (noted,) = _rows(engine, action="audit_spool")
    assert (noted.outcome, noted.actor_role) == ("failure", "system")
    assert noted.detail == "unreadable: 424242-half.rows"
    assert [row.object_id for row in _rows(engine, object_type="case")] == [1, 2, 3]
    # A line its dead writer never finished is never moved, and does not keep the file.
    spool.write_bytes(spool.read_bytes() + half[:40])
    _a_round(app)
    assert not spool.exists()


def test_LG01_a_spool_that_cannot_be_written_sends_the_row_to_the_database(
    spooling: tuple[Flask, World, int, Path],
) -> None:
    app, world, thread_id, directory = spooling
    app.config["AUDIT_SEAL_DELAY"] = None  # no sealer: the row must be in the table already
    engine = database.for_app(app).engine
    directory.write_text("not a directory")  # the spool cannot be made
    guardian = Browser(app.test_client())
    guardian.login("g1@family.test")
    assert guardian.get(f"/messages/{thread_id}").status_code == 200
    rows = _rows(engine, object_type="message_thread", actor_id=world.g1.id)
    assert [(row.action, row.object_id) for row in rows] == [("read", thread_id)]


def test_LG04_audit_verify_reports_rows_left_in_the_spool(
    spooling: tuple[Flask, World, int, Path],
) -> None:
    app, _world, _thread_id, directory = spooling
    app.config["AUDIT_SEAL_DELAY"] = None
    directory.mkdir(exist_ok=True)
    spool = directory / "424243-left.rows"
    spool.write_bytes(audit_spool._encode(_values()))
    old = time.time() - 600
    os.utime(spool, (old, old))
    result = app.test_cli_runner().invoke(args=["audit-verify", "--grace", "60"])
    assert result.exit_code != 0
    assert "424243-left.rows" in result.output and "audit-seal" in result.output
    sealed = app.test_cli_runner().invoke(args=["audit-seal"])
    assert sealed.exit_code == 0, sealed.output
    assert not spool.exists()  # moved, sealed, and its writer long gone
    result = app.test_cli_runner().invoke(args=["audit-verify", "--grace", "60"])
    assert result.exit_code == 0, result.output


def test_LG01_a_row_half_written_to_a_full_disk_is_not_joined_to_the_next_one(
    spooling: tuple[Flask, World, int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _world, _thread_id, directory = spooling
    app.config["AUDIT_SEAL_DELAY"] = None
    engine = database.for_app(app).engine
    audit_spool.append(directory, _values(object_id=1))

    class FullDisk:
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        @staticmethod
        def write(fd: int, data: bytes) -> int:
            return os.write(fd, data[:10])  # the disk took ten bytes of the line

    monkeypatch.setattr(audit_spool, "os", FullDisk())
    with pytest.raises(OSError, match="short write"):  # the caller writes it to the database
        audit_spool.append(directory, _values(object_id=2))
    monkeypatch.undo()
    audit_spool.append(directory, _values(object_id=3))
    assert len(list(directory.glob("*.rows"))) == 2  # the next row went to a new file
    with engine.begin() as connection:
        assert audit_spool.move_rows(connection, directory) == 2
    assert [row.object_id for row in _rows(engine, object_type="case")] == [1, 3]
    assert not _rows(engine, action="audit_spool")  # nothing unreadable: no line was joined
