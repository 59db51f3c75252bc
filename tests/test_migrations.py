"""RL-10: one head, upgrade from empty and back, and the models match the migrations."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect

from portal import create_app
from portal.db import Base
from portal.extensions import database

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def test_RL10_single_head_revision() -> None:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_RL10_models_match_migrated_schema(app: Flask) -> None:
    with database.for_app(app).engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_RL10_upgrade_from_empty_then_downgrade_to_empty(tmp_path: Path) -> None:
    from flask_migrate import downgrade, upgrade

    scratch = create_app(
        {
            "TESTING": True,
            "PORTAL_ENV": "test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'scratch.db'}",
            "SECRET_KEY": "x" * 40,
        }
    )
    with scratch.app_context():
        upgrade(revision="heads")
        tables = set(inspect(database.engine).get_table_names())
        assert {"users", "cases", "guardian_links", "consent_records"} <= tables
        downgrade(revision="base")
        assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
        upgrade(revision="heads")
        assert "consent_records" in inspect(database.engine).get_table_names()
