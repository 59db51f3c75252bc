"""Alembic environment: runs against the app's own engine (SQLite or PostgreSQL)."""

from __future__ import annotations

from alembic import context
from flask import current_app

import portal.models  # noqa: F401 - registers every table on the metadata
from portal.db import Base


def run_migrations_online() -> None:
    engine = current_app.extensions["rapport_db"].engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("Offline SQL generation is not supported; run against a database.")
run_migrations_online()
