"""SQLite's writers queue at a file lock, not in SQLite's busy handler (issue 17).

SQLite lets one transaction write at a time. A second `BEGIN IMMEDIATE` does not wait in a queue:
its busy handler sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 and then 100 ms between tries, so
a writer that arrives a moment after another one sleeps for far longer than the other holds the
lock, and a worker that writes again at once takes the lock back before the sleeper wakes. Under
load every app process then waits with its CPU idle (logging a practice ran at a quarter of the
anchor's rate, p99 248 ms, while the lock was free most of the time).

So every connection of the app's SQLite engine holds an open lock file beside the database
(`<database>.writers`), takes an exclusive `flock` on it before `BEGIN IMMEDIATE` and lets it go
as its transaction ends. A writer that finds it taken tries again within half a millisecond, so
the lock passes from one writer to the next as soon as it is free. The database's own lock is
unchanged: a program that does not use the lock file (the sqlite3 shell, a backup) is waited for
by the busy timeout as before, and a lock file nobody can create leaves the engine as it was.
A writer waits at the lock file at most the busy timeout; then `BEGIN IMMEDIATE` runs once
without waiting, so a stuck writer still costs the others at most the 5 s of RL-07, not twice
that.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from typing import Any

# How long a writer waits between tries of the lock file: short, since a writer holds it for a
# few milliseconds and every idle moment of a waiting worker is lost throughput.
_FIRST_PAUSE = 0.0001
_LONGEST_PAUSE = 0.0005


def lock_path(database: str) -> str | None:
    """The lock file beside a database file; None for a database in memory."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{database}.writers"


class GatedConnection(sqlite3.Connection):
    """A sqlite3 connection that holds the lock file from `take_gate()` until its transaction
    commits or rolls back, or the connection closes."""

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._gate_fd: int | None = None
        self._gate_held = False
        self._gate_wait = float(kwargs.get("timeout", 5.0))
        path = lock_path(os.fspath(database))
        if path is not None:
            try:
                self._gate_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:  # a read-only directory: SQLite's own waiting, as before
                self._gate_fd = None

    def take_gate(self) -> bool:
        """Wait for the lock file (at most the busy timeout). False: it stayed taken."""
        fd = self._gate_fd
        if fd is None or self._gate_held:
            return True
        pause = _FIRST_PAUSE
        deadline = time.monotonic() + self._gate_wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, _LONGEST_PAUSE)
                continue
            self._gate_held = True
            return True

    def leave_gate(self) -> None:
        if self._gate_held and self._gate_fd is not None:
            self._gate_held = False
            fcntl.flock(self._gate_fd, fcntl.LOCK_UN)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.leave_gate()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.leave_gate()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.leave_gate()
            if self._gate_fd is not None:
                os.close(self._gate_fd)
                self._gate_fd = None


def begin_immediate(dbapi_connection: Any, execute: Any) -> None:
    """Start a transaction that holds the write lock: the lock file first, then `BEGIN
    IMMEDIATE` through `execute` (SQLAlchemy's, so a failure is its OperationalError and the
    503 page). After waiting the whole busy timeout at the lock file, the BEGIN is tried once
    with no wait of its own."""
    if not isinstance(dbapi_connection, GatedConnection):
        execute("BEGIN IMMEDIATE")
        return
    if dbapi_connection.take_gate():
        try:
            execute("BEGIN IMMEDIATE")
        except BaseException:  # no transaction began, so nothing would end it and let go
            dbapi_connection.leave_gate()
            raise
        return
    waited = dbapi_connection.execute("PRAGMA busy_timeout").fetchone()[0]
    dbapi_connection.execute("PRAGMA busy_timeout = 0")
    try:
        execute("BEGIN IMMEDIATE")
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(waited)}")
