"""Database plumbing: declarative base, engine set-up and the per-request session.

SQLite is the embedded default and PostgreSQL the production path. SQLite needs care
(SECURITY D6, D7):
foreign keys are off on every new connection and a deferred BEGIN fails at once under concurrent
writers, so every connection turns foreign keys and WAL on and every transaction that may write
starts IMMEDIATE. A GET/HEAD request only reads (issue 9): its transactions start deferred, so page
views read side by side under WAL instead of queueing for the one write lock. The rare GET that
writes (the sign-in check touching `last_active_at`) calls `will_write()` first.

On PostgreSQL a request that wrote nothing ends its transaction with COMMIT, not with the
ROLLBACK of the session's close (issue 17): at a ROLLBACK psycopg forgets every statement it
prepared on the connection. `_commit_if_only_read` says when, and why it cannot commit a write.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVarTuple, overload

from flask import Flask, Response, current_app, g, has_request_context, request
from flask.globals import _cv_app
from sqlalchemy import DateTime, Engine, Enum, MetaData, String, create_engine, event, literal
from sqlalchemy.engine import Connection, CursorResult, Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import TypedReturnsRows
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util.typing import TupleAny
from werkzeug.local import LocalProxy

from portal import write_gate

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always stored and returned as UTC and never naive (RL-13)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use portal.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite keeps no zone; we only ever wrote UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} id={getattr(self, 'id', None)}>"


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalise_url(url: str) -> str:
    """Accept the usual `postgres://` / `postgresql://` spellings and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event below own the transaction boundaries.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 5000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A reads-first request that ended without writing left its reads on the connection.
        connection.info.pop(_READS, None)
        reads_first = _reads_first_request()
        write_lock = not reads_first and not read_only_request()
        if write_lock:
            _begin_immediate(connection)
        else:
            connection.exec_driver_sql("BEGIN")
        connection.info[_WRITE_LOCK] = write_lock
        if reads_first:
            connection.info[_READS] = []
            g.db_reads_first_before = frozenset(vars(g))

    @event.listens_for(engine, "before_cursor_execute")
    def _on_statement(connection: Any, _c: Any, statement: str, parameters: Any, *_a: Any) -> None:
        reads = connection.info.get(_READS)
        if reads is not None:
            if statement.lstrip()[:6].upper() != "SELECT":
                raise RuntimeError("a reads-first request wrote before will_write()")
            reads.append((statement, tuple(parameters)))


def _begin_immediate(connection: Connection) -> None:
    """BEGIN IMMEDIATE, after the app's other writers (portal.write_gate)."""
    write_gate.begin_immediate(connection.connection.dbapi_connection, connection.exec_driver_sql)


# Connection.info key (SQLite): the transaction open on this connection began IMMEDIATE.
_WRITE_LOCK = "rapport_write_lock"
# Connection.info key (SQLite): the statements a reads-first request read with, in its deferred
# transaction, before it took the write lock (`reads_first`).
_READS = "rapport_reads"


class ReadsChanged(Exception):
    """A reads-first request's reads gave other rows once it held the write lock: what it decided
    on them must be decided again (`portal.web.reads_first`)."""


def _reads_first_request() -> bool:
    """A request to a view declared `reads_first` (portal.web.reads_first) that has not yet
    announced its write."""
    if not has_request_context() or g.get("db_will_write"):
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "reads_first", False))


_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READING_ONLY: ContextVar[bool] = ContextVar("rapport_reading_only", default=False)


@contextmanager
def reading_only() -> Iterator[None]:
    """Code outside a request that only reads (the start-up check of AU-07): its transactions
    start deferred, so they never queue behind a writer for SQLite's busy timeout."""
    token = _READING_ONLY.set(True)
    try:
        yield
    finally:
        _READING_ONLY.reset(token)


def read_only_request() -> bool:
    """A GET/HEAD request that has not announced a write, or code inside `reading_only()`: its
    transaction may start deferred. Everything else (POSTs, the CLI, scripts, tests' own
    sessions) starts IMMEDIATE (D7)."""
    if _READING_ONLY.get():
        return True
    return has_request_context() and request.method in _READ_METHODS and not g.get("db_will_write")


def will_write(*, recheck: bool = True) -> None:
    """A GET request is about to write: on SQLite, end its read transaction, so the write runs
    in one that starts IMMEDIATE (a deferred reader that then writes could fail at once under
    load, D7). Any other request is IMMEDIATE already, and nothing of it is committed here.
    PostgreSQL has no deferred transactions to leave: the write joins the read's transaction,
    which its caller commits (issue 17: ending it first cost a COMMIT and a BEGIN round trip,
    and a second connection check-out with its ping, on every page that writes its audit row).

    On SQLite the read transaction ends on its own connection: COMMIT, then BEGIN IMMEDIATE,
    inside the session's transaction (issue 17: not the session's commit, its connection handed
    back to the pool and a second check-out for the write, on every audited page view). What
    the database sees is as before: the read transaction commits (anything pending flushed into
    it first, as the session's commit did) and the write starts holding the lock.

    A POST to a view declared `reads_first` (portal.web.reads_first) read in a deferred
    transaction as well: it takes the lock the same way and reads again what it read
    (`_lock_after_reads`). `recheck=False` only once its answer is decided and all that is left
    to write is the audit row saying so (the audit trail's after-request hook)."""
    if read_only_request():
        g.db_will_write = True
        db_session = get_session()
        if _dialect_of(db_session) == "sqlite" and db_session.in_transaction():
            connection = db_session.connection()  # begun IMMEDIATE if it had no connection yet
            if not connection.info.get(_WRITE_LOCK):
                db_session.flush()
                # commit point: will_write() ends a GET's read transaction
                connection.exec_driver_sql("COMMIT")
                _begin_immediate(connection)
                connection.info[_WRITE_LOCK] = True
    elif _reads_first_request():
        g.db_will_write = True
        db_session = get_session()
        if _dialect_of(db_session) == "sqlite" and db_session.in_transaction():
            connection = db_session.connection()
            if not connection.info.get(_WRITE_LOCK):  # a test's connection holds it from before
                _lock_after_reads(connection, recheck=recheck)


def _lock_after_reads(connection: Connection, *, recheck: bool) -> None:
    """A reads-first request (SQLite) is about to write: take the write lock, then read again
    every statement it read with, and raise `ReadsChanged` unless each gives the rows it gave
    in the deferred transaction.

    Why that keeps the request as isolated as one that held the lock from its first statement:
    its decision (signed in? whose case? may they? which step, in what state?) is a function of
    the rows those statements returned, of the request and of the clock. The statements are
    read again, whole and with the same parameters, once in the read transaction's snapshot
    (what the request saw) and once under the lock, before anything is written (the latest
    committed state, which no other writer can change until this transaction ends). Equal rows
    mean the request would have decided the same under the lock, so nothing it writes rests on
    a stale read; a row changed, added or removed since (a sign-out, a withdrawn consent, a
    retired step, another practice that moved the step) means it decides again, under the lock.
    What it read in the deferred transaction may be stale by up to its length (a few
    milliseconds); only its decision waits on that, never a write. An answer already decided
    (a refusal, a form sent back) writes only its audit row, unchecked (`recheck=False`): that
    row records what was answered, on reads at most that old, and nothing else rests on them.
    Every statement passes `before_cursor_execute`, so no read of the request escapes the
    comparison (lazy loads included), and a write before this point is refused there."""
    reads = connection.info.pop(_READS, None) or []
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None

    def rows_now() -> list[list[Any]]:
        cursor = dbapi_connection.cursor()
        try:
            return [
                cursor.execute(statement, parameters).fetchall() for statement, parameters in reads
            ]
        finally:
            cursor.close()

    seen = rows_now() if recheck else None
    # commit point: a reads-first request ends its read transaction to take the write lock
    connection.exec_driver_sql("COMMIT")
    _begin_immediate(connection)
    connection.info[_WRITE_LOCK] = True
    if recheck and rows_now() != seen:
        raise ReadsChanged


def _dialect_of(db_session: Session) -> str:
    return db_session.get_bind().dialect.name


def read_without_transaction() -> None:
    """A background request that only reads (the idle poll, issue 17): on PostgreSQL its
    statements run in autocommit, each in its own snapshot as READ COMMITTED gives them anyway,
    so the request sends no BEGIN and no ROLLBACK (two of an idle poll's five round trips). A
    write it may still make (ending an expired sign-in, a read's audit row) is one statement,
    committed as it runs. Only before the request's transaction has begun, and only on a session
    of the engine's own connections (a test's session on a connection in a transaction is left
    as it is); SQLite's BEGIN sends nothing over a network and stays."""
    db_session = get_session()
    if db_session.in_transaction() or not isinstance(db_session.bind, Engine):
        return
    if db_session.bind.dialect.name == "postgresql":
        db_session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


# Connection.info key (PostgreSQL): every statement of the transaction open on this connection was
# a plain read. Set by its begin, unset by anything else; missing (a connection that has not begun
# through SQLAlchemy) counts as written.
_ONLY_READS = "rapport_only_reads"
_READ_START = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)
_WRITE_WORD = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|set_config|pg_notify)\b", re.IGNORECASE)


@functools.lru_cache(maxsize=2048)
def _plain_read(statement: str) -> bool:
    """A SELECT, or a WITH .. SELECT, that names no writing verb (a `FOR UPDATE` counts as one)
    and calls neither of the two functions whose effect a COMMIT keeps and no transaction id
    shows: `set_config` (a setting for the rest of the connection's life) and `pg_notify`.
    Kept per statement text: SQLAlchemy hands over the same string each time a statement runs."""
    return bool(_READ_START.match(statement)) and not _WRITE_WORD.search(statement)


# Ends a transaction that has no transaction id with COMMIT, in one round trip: PostgreSQL gives
# a transaction an id when it first writes anything (a row, a row lock of SELECT .. FOR UPDATE,
# DDL, a write done by a function or a trigger), and runs the statements of one simple-protocol
# message in order until one fails. If the transaction wrote, the division by zero fails it and
# the COMMIT after it is never run; the session's close then rolls it back.
_COMMIT_IF_NOTHING_WRITTEN = "SELECT 1 / (pg_current_xact_id_if_assigned() IS NULL)::int; COMMIT"


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.info[_ONLY_READS] = True

    @event.listens_for(engine, "before_cursor_execute")
    def _on_statement(connection: Connection, _c: Any, statement: str, *_args: Any) -> None:
        if not _plain_read(statement):
            connection.info[_ONLY_READS] = False


def _commit_if_only_read(db_session: Session) -> None:
    """A request that wrote nothing ends its PostgreSQL transaction with COMMIT, not with the
    ROLLBACK of the session's close (issue 17). At every ROLLBACK psycopg forgets the statements it
    prepared on the connection, and how often it saw each (it prepares one the sixth time), so a
    page whose transaction rolled back was parsed and planned anew on every visit; the pool's
    reset after a COMMIT sends nothing (psycopg rolls back only a connection in a transaction).

    Nothing is committed unless all of these hold, each on its own enough to keep a write out:
    the caller saw the request end without an exception and below 400; nothing is pending in the
    session (an object added, changed or deleted and not flushed); no savepoint is open; every
    statement of the transaction was a plain read (`_plain_read`: a SET, an INSERT, a DO, a CTE
    that writes, a SELECT .. FOR UPDATE all count as written); and PostgreSQL gave the
    transaction no id, which it does for any write, however it was made
    (`_COMMIT_IF_NOTHING_WRITTEN`). Only for a session of the engine's own connections: a test's
    session on a connection in a transaction is left alone. SQLite keeps its statements across a
    ROLLBACK, so its reads end as before."""
    engine = db_session.bind
    if not isinstance(engine, Engine) or engine.dialect.name != "postgresql":
        return
    transaction = db_session.get_transaction()
    if transaction is None or db_session.in_nested_transaction():
        return
    if db_session.new or db_session.dirty or db_session.deleted:
        return
    connections = transaction.connections
    if len(connections) != 1:
        return
    (connection,) = connections
    if connection.info.get(_ONLY_READS) is not True:
        return
    from psycopg.pq import TransactionStatus

    driver_connection = connection.connection.driver_connection
    if driver_connection is None or driver_connection.info.transaction_status != (
        TransactionStatus.INTRANS
    ):
        return  # autocommit, nothing sent yet, or a failed statement
    try:
        with driver_connection.cursor() as cursor:
            # commit point: a request that wrote nothing ends its read transaction
            cursor.execute(_COMMIT_IF_NOTHING_WRITTEN, prepare=False)
    except engine.dialect.loaded_dbapi.Error:
        return  # it wrote: the session's close rolls it back, as before


def build_engine(url: str, **options: Any) -> Engine:
    # A database error's message must not carry the row it was writing (a message body, a
    # password hash) into the error log (LG-03).
    options.setdefault("hide_parameters", True)
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Writers queue at a lock file beside the database (portal.write_gate, issue 17).
        engine = create_engine(
            url, connect_args={"timeout": 5, "factory": write_gate.GatedConnection}, **options
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_timeout=5,
        connect_args={"connect_timeout": 5},
        **options,
    )
    if parsed.get_backend_name() == "postgresql":
        _configure_postgresql(engine)
    return engine


class AppDatabase:
    """One app's engine and session factory (several apps may live in one process, e.g. tests)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessionmaker: sessionmaker[Session] = sessionmaker(bind=engine, expire_on_commit=False)
        # (event, listener) pairs attached to each request's session, e.g. the audit trail's.
        self.session_events: list[tuple[str, Callable[..., Any]]] = []
        # The class of this app's request sessions, with the listeners above, and how many of
        # them it has (a listener added later makes a new class).
        self._request_sessions: tuple[int, type[Session]] | None = None

    def new_session(self) -> Session:
        """A session for one request, with this app's session listeners attached: to a `Session`
        class of this app's own, made once, so only its request sessions hear them (issue 17:
        attaching them to each new session, and SQLAlchemy's clean-up when it was collected,
        cost ~25 µs a request). Made with the sessionmaker's settings of the moment, as
        `sessionmaker()` makes its sessions."""
        made = self._request_sessions
        if made is None or made[0] != len(self.session_events):
            request_session = type("RequestSession", (Session,), {})
            for name, listener in self.session_events:
                event.listen(request_session, name, listener)
            made = self._request_sessions = (len(self.session_events), request_session)
        return made[1](**self.sessionmaker.kw)


class Database:
    """The extension: binds an AppDatabase to each app; views use `portal.db.session`."""

    metadata = Base.metadata

    def init_app(self, app: Flask) -> None:
        app.extensions["rapport_db"] = AppDatabase(build_engine(app.config["DATABASE_URL"]))
        app.after_request(_note_answer)
        app.teardown_appcontext(_close_session)

    @staticmethod
    def for_app(app: Flask) -> AppDatabase:
        app_database: AppDatabase = app.extensions["rapport_db"]
        return app_database

    @property
    def engine(self) -> Engine:
        """The current app's engine (needs an app context)."""
        from flask import current_app

        return self.for_app(current_app).engine


# `g` key: the request's answer was below 400 (set after the request, read at its teardown).
_ANSWERED_OK = "db_answered_ok"


def _note_answer(response: Response) -> Response:
    setattr(g, _ANSWERED_OK, response.status_code < 400)
    return response


def _close_session(exc: BaseException | None) -> None:
    """The end of a request's session: its transaction rolls back, unless the request ended well
    and wrote nothing, when PostgreSQL's ends with COMMIT (`_commit_if_only_read`)."""
    answered_ok = g.pop(_ANSWERED_OK, False)
    db_session: Session | None = g.pop("db_session", None)
    if db_session is not None:
        if exc is None and answered_ok:
            _commit_if_only_read(db_session)
        db_session.close()


def get_session() -> Session:
    context = _cv_app.get(None)  # `g` without its proxy (issue 17: ~15 look-ups a page)
    state = context.g if context is not None else g  # no app context: `g` says so, as before
    db_session: Session | None = state.get("db_session")
    if db_session is None:
        from flask import current_app

        app_database: AppDatabase = current_app.extensions["rapport_db"]
        db_session = state.db_session = app_database.new_session()
    return db_session


session: Session = LocalProxy(get_session)  # type: ignore[assignment]

_Ts = TypeVarTuple("_Ts")


@overload
def read_columns(
    statement: TypedReturnsRows[*_Ts], values: Mapping[str, Any] | None = None
) -> CursorResult[*_Ts]: ...


@overload
def read_columns(
    statement: Executable, values: Mapping[str, Any] | None = None
) -> CursorResult[*TupleAny]: ...


def read_columns(
    statement: Executable, values: Mapping[str, Any] | None = None
) -> CursorResult[*TupleAny]:
    """The rows of a statement of plain columns (no mapped entities), through the session's
    connection. The session's own `execute` autoflushes, then does per-statement ORM work for
    entities such rows never hold (~25 µs a statement, issue 17); this flushes as it would (a
    request that changed something reads its change) and hands the statement to the connection."""
    return flushed_connection(get_session()).execute(statement, values)


def flushed_connection(db_session: Session) -> Connection:
    """`db_session`'s connection, after the flush its own `execute` would do first (a no-op when
    nothing is pending), for Core statements that need none of its ORM work (issue 17)."""
    if db_session.autoflush:
        db_session.flush()
    return db_session.connection()


@contextmanager
def bound(db_session: Session) -> Iterator[Session]:
    """Inside the block, `portal.db.session` is `db_session` (the one way to hand services a
    session of your own: tests, scripts). Needs an app context. On leaving, whatever session was
    bound before comes back, and `db_session` is neither committed nor closed: its owner does that.

        with app.test_request_context(), db.bound(my_session):
            do_something(...)  # services read `db.session`, i.e. my_session
    """
    previous = g.get("db_session")
    g.db_session = db_session
    try:
        yield db_session
    finally:
        if previous is None:
            g.pop("db_session", None)
        else:
            g.db_session = previous


def enum_type(enum_class: type[enum.StrEnum], length: int = 32) -> Enum:
    """Store an enum by its lower-case value, with a CHECK constraint in the database."""
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        create_constraint=True,
        validate_strings=True,
        name=enum_class.__name__.lower(),
    )


def written(value: enum.Enum) -> BindParameter[str]:
    """An enum's value written into the SQL text when a statement built once runs (SQLAlchemy
    renders and quotes it: `literal_execute`), not sent as a bound parameter. For a column with a
    partial index on its value: SQLite plans a statement again at every execution when a bound
    value could decide whether a partial index applies (issue 17: re-planning what needs a
    guardian was 0.6 of its 0.75 ms; plan_versions has two such indexes, on status)."""
    return literal(value.value, String, literal_execute=True)
