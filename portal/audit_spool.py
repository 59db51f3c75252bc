"""A read's audit row on SQLite: kept in a spool file, moved into `audit_log` by the sealer
(issue 17).

SQLite writes under one lock for the whole database. Writing a page view's row into `audit_log`
made every page that only reads open a write transaction after it answered, and queue for that
lock with every practice being logged. So on SQLite a request that wrote nothing else appends its
row, before the response leaves, to a file of its own process beside the database
(`<database>.audit-spool/<pid>-<random>.rows`, one JSON line per row, one `os.write` each), and
the sealer's round moves every complete line into `audit_log` and chains it in one transaction,
half a second later (`AUDIT_SEAL_DELAY`). The page itself opens no write transaction.

What stays true (LG-01, LG-04):
- **Exactly once.** How far each file has been moved is kept in `audit_spool_marks`, committed
  in the same transaction as the rows it moved: a sealer that dies before its commit leaves both
  as they were, one that dies after it leaves the mark past those rows. A file is deleted only
  once its writer is gone (the writer holds a shared `flock` on it for its life) and every
  complete line in it is past the mark; its mark goes after it.
- **Not lost when a worker dies.** A row is in the file (the kernel's page cache) before the
  response is sent, so a killed worker's rows are moved by the next round of any process. A crash
  of the whole machine can lose the last moment of them, as it can lose SQLite's last commits
  under `synchronous = NORMAL`.
- **Covered by the evidence within seconds**: moved and sealed in one commit, in time order;
  `audit-verify` reports a spool file left unmoved longer than its grace.
- **A row that cannot be spooled** (a full disk, a read-only directory) is written into the
  database as before, so the page still answers only once its row is kept.

PostgreSQL has no database-wide lock, so its reads keep writing their row in their own
transaction (`portal.db.will_write`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.orm import Session

from portal import db
from portal.models.audit import CHAINED_FIELDS, AuditLog, AuditSpoolMark

# A process starts a new file after this many bytes, so a finished file can be deleted while the
# process lives on (about 10,000 rows).
ROTATE_BYTES = 4 * 1024 * 1024
_SUFFIX = ".rows"

log = logging.getLogger(__name__)


def spool_directory(engine: Engine) -> Path | None:
    """`<database>.audit-spool` for a SQLite database file; None for any other database."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(f"{database}.audit-spool")


# ---- writing: one file per process ----------------------------------------------------------


class _Writer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.lock = threading.Lock()
        self.fd: int | None = None
        self.pid = 0
        self.size = 0

    def append(self, line: bytes) -> None:
        with self.lock:
            if self.fd is None or self.pid != os.getpid() or self.size >= ROTATE_BYTES:
                self._start_file()
            assert self.fd is not None
            try:
                written = os.write(self.fd, line)
            except OSError:
                self.size = ROTATE_BYTES  # the next row tries a new file
                raise
            self.size += written
            if written != len(line):
                # A full disk: the caller writes this row into the database. The half line
                # left behind is never moved; the next row starts a new file, so it is not
                # joined to it.
                self.size = ROTATE_BYTES
                raise OSError(f"short write to the audit spool ({written} of {len(line)} bytes)")

    def _start_file(self) -> None:
        """A new file, held shared for as long as this process writes to it. It is made under a
        hidden name and renamed once held, so no sealer ever sees it unheld and deletes it."""
        self.directory.mkdir(mode=0o700, exist_ok=True)
        name = f"{os.getpid()}-{secrets.token_hex(8)}{_SUFFIX}"
        hidden = self.directory / f".{name}"
        fd = os.open(
            hidden, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600
        )
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            os.rename(hidden, self.directory / name)
        except BaseException:
            os.close(fd)
            raise
        previous = self.fd
        self.fd, self.pid, self.size = fd, os.getpid(), 0
        if previous is not None:
            # A finished file: closing it lets a sealer delete it once it is moved. In a process
            # forked from the writer, this closes only the inherited copy: the parent's hold
            # belongs to the open file, which the parent still has open.
            os.close(previous)


_writers: dict[Path, _Writer] = {}
_writers_lock = threading.Lock()


def append(directory: Path, values: dict[str, Any]) -> None:
    """Keep one row (`portal.audit.row_values`) in this process's spool file; OSError when it
    could not be kept whole."""
    writer = _writers.get(directory)
    if writer is None:
        with _writers_lock:
            writer = _writers.setdefault(directory, _Writer(directory))
    writer.append(_encode(values))


def _encode(values: dict[str, Any]) -> bytes:
    fields = dict(values)
    fields["created_at"] = values["created_at"].isoformat()
    return (json.dumps(fields, separators=(",", ":"), ensure_ascii=True) + "\n").encode()


_FIELDS = frozenset(CHAINED_FIELDS)


def _decode(line: bytes, name: str) -> dict[str, Any]:
    """One spooled row; a line that is not one (a damaged disk, an edit) becomes a row saying
    so, so the trail records the loss and the sealer does not stop at it."""
    try:
        fields: dict[str, Any] = json.loads(line)
        if set(fields) != _FIELDS:
            raise ValueError("not the fields of an audit row")
        fields["created_at"] = datetime.fromisoformat(fields["created_at"])
        if fields["created_at"].tzinfo is None:
            raise ValueError("a time without its zone")
    except (ValueError, TypeError, AttributeError):
        log.error("unreadable line in the audit spool file %s", name)
        return {
            **dict.fromkeys(_FIELDS),
            "created_at": datetime.now(UTC),
            "actor_role": "system",
            "action": "audit_spool",
            "outcome": "failure",
            "detail": f"unreadable: {name}"[:200],
        }
    return fields


# ---- moving: in the sealer's transaction ------------------------------------------------------

_TABLE = AuditLog.__table__
_INSERT_ROW = insert(_TABLE)  # type: ignore[arg-type]
_MARKS = select(AuditSpoolMark.name, AuditSpoolMark.done)


def _files(directory: Path) -> list[str]:
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n.endswith(_SUFFIX) and not n.startswith("."))


def _marks(connection: Connection | Session) -> dict[str, int]:
    return {name: done for name, done in connection.execute(_MARKS)}


def _open(path: Path) -> int | None:
    """A descriptor for reading a spool file; None once another sealer has deleted it."""
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None


def _unmoved(fd: int, done: int) -> bytes:
    """The complete lines after a file's mark (a line still being written waits its turn)."""
    os.lseek(fd, done, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    waiting = b"".join(chunks)
    return waiting[: waiting.rfind(b"\n") + 1]


def move_rows(connection: Connection, directory: Path) -> int:
    """Insert every complete line not yet moved, in time order, and move each file's mark past
    it, in `connection`'s transaction (the caller commits; on SQLite it holds the write lock, so
    two sealers never read the same mark). Returns the number of rows moved."""
    names = _files(directory)
    if not names:
        return 0
    marks = _marks(connection)
    rows: list[dict[str, Any]] = []
    moved: dict[str, int] = {}
    for name in names:
        fd = _open(directory / name)
        if fd is None:
            continue
        try:
            done = marks.get(name, 0)
            waiting = _unmoved(fd, done)
        finally:
            os.close(fd)
        if waiting:
            rows.extend(_decode(line, name) for line in waiting.splitlines())
            moved[name] = done + len(waiting)
    if not rows:
        return 0
    rows.sort(key=lambda row: row["created_at"])
    connection.execute(_INSERT_ROW, rows)
    for name, done in moved.items():
        if name in marks:
            connection.execute(
                update(AuditSpoolMark).where(AuditSpoolMark.name == name).values(done=done)
            )
        else:
            connection.execute(insert(AuditSpoolMark).values(name=name, done=done))
    return len(rows)


def tidy(session: Session, directory: Path) -> None:
    """Delete the files whose writer is gone and whose every complete line is moved, then their
    marks (in that order: a mark without its file is harmless, a file without its mark would be
    moved again). Commits `session`'s work (the sealer's own session, after its round)."""
    if not directory.is_dir():
        return
    names = _files(directory)
    with db.reading_only():  # only reads: no write lock unless there are marks to delete
        marks = _marks(session)
    session.commit()  # commit point: the sealer's tidying (ends the read)
    for name in names:
        path = directory / name
        fd = _open(path)
        if fd is None:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process still writes to it
            if _unmoved(fd, marks.get(name, 0)):
                continue  # rows not moved yet: the next round moves them first
            os.unlink(path)
        finally:
            os.close(fd)
    present = set(_files(directory))
    gone = [name for name in marks if name not in present]
    if gone:
        session.execute(delete(AuditSpoolMark).where(AuditSpoolMark.name.in_(gone)))
        session.commit()  # commit point: the sealer's tidying (the marks of deleted files)


def overdue_files(connection: Connection, directory: Path, older_than: float) -> list[str]:
    """Spool files unchanged since `older_than` (a `time.time()`) that still hold complete lines
    not moved into the trail: rows nothing has sealed (`audit-verify`)."""
    marks = _marks(connection)
    late = []
    for name in _files(directory):
        fd = _open(directory / name)
        if fd is None:
            continue
        try:
            if os.fstat(fd).st_mtime < older_than and _unmoved(fd, marks.get(name, 0)):
                late.append(name)
        finally:
            os.close(fd)
    return late
