"""RL-10: one head, upgrade from empty and back, and the models match the migrations."""

from __future__ import annotations

from contextlib import ExitStack
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


def test_words_stored_for_later_recovers_old_rows_and_downgrades(tmp_path: Path) -> None:
    """Migration 5d0e7a1b9c42: the sentences the code wrote before become a msgid and parameters
    (English, and the Spanish some tasks were written in); a sentence of another shape keeps
    NULL words and reads as stored; a deleted child is marked; downgrade drops the columns and
    the English kept in `summary` reads as before."""
    import json
    import sqlite3

    from flask_migrate import downgrade, upgrade

    path = tmp_path / "words.db"
    scratch = create_app(
        {
            "TESTING": True,
            "PORTAL_ENV": "test",
            "DATABASE_URL": f"sqlite:///{path}",
            "SECRET_KEY": "x" * 40,
        }
    )
    with scratch.app_context():
        upgrade(revision="c1a5e0a77e4d")
    old = sqlite3.connect(path)
    when = "2026-12-03 12:00:00.000000"
    old.execute("INSERT INTO clinics VALUES (1, 'Willow', 'America/New_York', ?)", (when,))
    old.execute(
        "INSERT INTO cases (id, clinic_id, child_id, status, presenting_concern, opened_at, "
        "opened_by_id) VALUES (1, 1, 7, 'active', '', ?, 1)",
        (when,),
    )
    user = "INSERT INTO users (id, role, is_admin, email, username, display_name, credential, active, reminders, created_at) VALUES (?, ?, 0, ?, ?, ?, 'none', 1, 1, ?)"  # noqa: E501
    old.execute(user, (1, "guardian", "ana@x.test", None, "Ana Okafor", when))
    old.execute(user, (2, "child", None, "closed-2", "Closed account", when))
    child = "INSERT INTO children (id, clinic_id, first_name, last_name, date_of_birth, user_id, created_at, created_by_id) VALUES (?, 1, ?, ?, '2018-01-01', ?, ?, 1)"  # noqa: E501
    old.execute(child, (7, "Child", "#7", 2, when))
    old.execute(child, (8, "Child", "Smith", None, when))
    alert = "INSERT INTO care_alerts (id, case_id, kind, summary, evidence, dedupe_key, created_at, resolution_note) VALUES (?, 1, ?, ?, 'case:1', ?, ?, '')"  # noqa: E501
    summaries = {
        1: ("low_rating", "Ana Okafor rated low: feeling heard, overall"),
        2: ("rating_drop", "The child's rating of overall dropped 3 points since last time"),
        3: (
            "flat_progress",
            "Goal progress from the guardian has been flat at about 4/10 for three ratings",
        ),
        4: ("no_practice", "No practice logged since Nov 28"),
        5: ("checkin_overdue", "Ana Okafor's check-in for the week of Dec 29 has not come in"),
        6: ("low_rating", "Something typed by hand"),
    }
    for ident, (kind, summary) in summaries.items():
        old.execute(alert, (ident, kind, summary, f"k{ident}", when))
    task = "INSERT INTO case_tasks (id, case_id, kind, summary, detail, created_at, created_by_id, resolution_note) VALUES (?, 1, ?, ?, ?, ?, 1, '')"  # noqa: E501
    old.execute(task, (1, "plan_comment", "Ana Okafor accepted plan v2 with a comment", "ok", when))
    old.execute(task, (2, "child_not_ready", "Maya dijo «todavía no» a empezar", "", when))
    old.execute(
        task,
        (3, "consent_withdrawn", "Ana Okafor retiró: Consentimiento para el tratamiento", "", when),
    )
    old.execute(task, (4, "plan_comment", "Can we move bedtime practice?", "", when))
    old.commit()
    old.close()

    with scratch.app_context():
        upgrade(revision="heads")
    new = sqlite3.connect(path)
    words = {
        ident: json.loads(text) if text else None
        for ident, text in new.execute("SELECT id, summary_words FROM care_alerts")
    }
    assert words[1] == {
        "msgid": "%(who)s rated low: %(items)s",
        "params": {"who": "Ana Okafor", "items": {"words": ["feeling heard", "overall"]}},
    }
    assert words[2]["params"] == {
        "who": {"word": "The child"},
        "item": {"word": "overall"},
        "points": 3,
    }
    assert words[3]["params"] == {"rater": {"word": "guardian"}, "value": 4}
    assert words[4]["params"] == {"day": {"date": "2026-11-28", "shape": "day"}}
    assert words[5]["params"]["day"] == {"date": "2025-12-29", "shape": "day"}  # last year's
    assert words[6] is None  # another shape: shown as stored
    tasks = {
        ident: (json.loads(s) if s else None, json.loads(d) if d else None)
        for ident, s, d in new.execute("SELECT id, summary_words, detail_words FROM case_tasks")
    }
    assert tasks[1][0] == {
        "msgid": "%(name)s accepted plan v%(number)s with a comment",
        "params": {"name": "Ana Okafor", "number": 2},
    }
    assert tasks[1][1] is None  # typed by the family
    assert tasks[2][0] == {
        "msgid": "%(name)s said “not yet” to starting",
        "params": {"name": "Maya"},
    }
    assert tasks[3][0] == {
        "msgid": "%(name)s withdrew: %(document)s",
        "params": {"name": "Ana Okafor", "document": {"word": "Consent to treatment"}},
    }
    assert tasks[4] == (None, None)
    removed = dict(new.execute("SELECT id, name_removed_at FROM children"))
    assert removed[7] is not None and removed[8] is None  # a child called Child stays so
    assert dict(new.execute("SELECT id, display_name FROM users"))[2] == "#7"
    new.close()

    with scratch.app_context():
        downgrade(revision="c1a5e0a77e4d")
        columns = {c["name"] for c in inspect(database.engine).get_columns("care_alerts")}
        assert "summary_words" not in columns and "summary" in columns
        task_columns = {c["name"] for c in inspect(database.engine).get_columns("case_tasks")}
        assert not {"summary_words", "detail_words"} & task_columns
        child_columns = {c["name"] for c in inspect(database.engine).get_columns("children")}
        assert "name_removed_at" not in child_columns
    back = sqlite3.connect(path)
    assert dict(back.execute("SELECT id, summary FROM care_alerts"))[1] == (
        "Ana Okafor rated low: feeling heard, overall"
    )
    back.close()


def test_running_totals_are_filled_from_the_rows_already_there_and_downgrade(
    tmp_path: Path,
) -> None:
    """Migration e7c1a4b2d9f3 (issue 17): on a database that already holds practice and tokens
    (the benchmark's generator, at the revision before), upgrade fills the running totals so they
    agree with a recount; downgrade drops them; upgrade again fills them again. On the configured
    database kind (a scratch PostgreSQL database when the tests run on PostgreSQL)."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy.orm import Session

    from bench.dataset import Shape, build
    from tests.support.databases import configured_url, postgres_database
    from tests.support.rows import _PASSWORD_HASH, _PIN_HASH
    from tests.support.tallies import kept, recounted

    shape = Shape(2, 4, 30, 300, 20, 4, 5, 100, "mig")
    with ExitStack() as stack:
        url = configured_url() or ""
        if url.startswith("postgres"):
            url = stack.enter_context(postgres_database(url, "tallies"))
        else:
            url = f"sqlite:///{tmp_path / 'tallies.db'}"
        scratch = create_app(
            {"TESTING": True, "PORTAL_ENV": "test", "DATABASE_URL": url, "SECRET_KEY": "x" * 40}
        )
        with scratch.app_context():
            upgrade(revision="9b3f2c7d1e60")
            with database.engine.begin() as connection:
                build(connection, shape, password_hash=_PASSWORD_HASH, pin_hash=_PIN_HASH)
            upgrade(revision="heads")
            with Session(database.engine) as session:
                totals = recounted(session)
                assert sum(practices for practices, _, _ in totals.cases.values()) == 300
                assert kept(session) == totals
            downgrade(revision="9b3f2c7d1e60")
            assert "step_days" not in inspect(database.engine).get_table_names()
            upgrade(revision="heads")
            with Session(database.engine) as session:
                assert kept(session) == totals
            database.engine.dispose()
