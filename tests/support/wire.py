"""What psycopg sends to end the app's transactions: `transaction_ends` records, while it is open,
every rollback psycopg sends (a rollback of a connection already out of its transaction sends
nothing, and is not recorded) and every conditional COMMIT of a read (`portal.db`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.pool import QueuePool

from portal import db


@contextmanager
def transaction_ends(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Yields the ends in order: "rollback" for each ROLLBACK psycopg sent, "commit-if-read" for
    each conditional COMMIT of a request that wrote nothing."""
    import psycopg
    from psycopg.pq import TransactionStatus

    ends: list[str] = []
    rollback, execute = psycopg.Connection.rollback, psycopg.Cursor.execute

    def recorded_rollback(connection: psycopg.Connection[Any]) -> None:
        if connection.info.transaction_status != TransactionStatus.IDLE:
            ends.append("rollback")
        rollback(connection)

    def recorded_execute(cursor: psycopg.Cursor[Any], query: Any, *args: Any, **kw: Any) -> Any:
        if query == db._COMMIT_IF_NOTHING_WRITTEN:
            ends.append("commit-if-read")
        return execute(cursor, query, *args, **kw)

    with monkeypatch.context() as patched:
        patched.setattr(psycopg.Connection, "rollback", recorded_rollback)
        patched.setattr(psycopg.Cursor, "execute", recorded_execute)
        yield ends


def prepared_statements(engine: Engine) -> list[str]:
    """The statements psycopg has prepared on the pool's idle connections, whitespace folded."""
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    prepared: list[str] = []
    with ExitStack() as stack:  # every connection of the pool: the one the pages used is among them
        for _ in range(pool.checkedin()):
            connection = stack.enter_context(engine.connect())
            found = connection.execute(text("SELECT statement FROM pg_prepared_statements"))
            prepared += [" ".join(statement.split()) for (statement,) in found]
    return prepared
