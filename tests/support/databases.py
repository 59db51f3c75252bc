"""The test databases: one per pytest-xdist worker, so parallel workers never share rows.

SQLite: a file in the worker's own temporary directory. PostgreSQL: a database per worker named
after TEST_DATABASE_URL's (`rapport_test_x_gw0`, ...), dropped and made afresh for each run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from portal.db import normalise_url
from portal.extensions import database


def configured_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")


def worker() -> str:
    """This xdist worker's name ("gw0", ...), or "" when the tests run in one process."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


@contextmanager
def postgres_database(url: str, suffix: str) -> Iterator[str]:
    """A fresh PostgreSQL database next to `url`'s, named with `suffix`; dropped afterwards."""
    parsed = make_url(normalise_url(url))
    name = f"{parsed.database}_{suffix}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def process_database(tmp_dir: Path) -> Iterator[str]:
    """The database of this test process (of this worker, under xdist)."""
    url = configured_url()
    if url is None:
        yield f"sqlite:///{tmp_dir / 'test.db'}"
    elif worker() and url.startswith("postgres"):
        with postgres_database(url, worker()) as own:
            yield own
    else:
        yield url


@contextmanager
def rolled_back(app: Flask) -> Iterator[tuple[Connection, sessionmaker[Session]]]:
    """A connection in a transaction that is rolled back at the end. Inside, the app's requests
    and the sessions of the returned factory work on it, each in a savepoint of its own, so a
    commit anywhere stays inside and the test sees what the requests wrote."""
    app_database = database.for_app(app)
    connection = app_database.engine.connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    previous = app_database.sessionmaker
    app_database.sessionmaker = factory
    try:
        yield connection, factory
    finally:
        app_database.sessionmaker = previous
        outer.rollback()
        connection.close()
