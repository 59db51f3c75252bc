"""The backup and restore drill (RL-09): a seeded database is backed up (encrypted), restored into
a fresh location, and must match table by table (row counts and SHA-256 of canonical ordered
dumps); then the app boots on the restored database and a guardian signs in and sees the plan.
Runs on SQLite, and on PostgreSQL (pg_dump -Fc / pg_restore) when TEST_DATABASE_URL names one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from portal import create_app
from portal.extensions import database
from portal.ops.backup import MAGIC, table_digests
from tests.support.browser import Browser
from tests.support.builders import family_plan
from tests.support.databases import configured_url, postgres_database, worker
from tests.support.rows import build_world

KEY = "7f" * 32
OTHER_KEY = "3c" * 32


def make(url: str) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "PORTAL_ENV": "test",
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "DATABASE_URL": url,
        }
    )


@pytest.fixture()
def urls(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A source and an empty destination database of the suite's kind."""
    configured = configured_url() or ""
    if not configured.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'source.db'}", f"sqlite:///{tmp_path / 'restored.db'}"
        return
    with (
        postgres_database(configured, f"drill_src{worker()}") as source,
        postgres_database(configured, f"drill_dst{worker()}") as destination,
    ):
        yield source, destination


def seeded(url: str) -> tuple[Flask, int]:
    from flask_migrate import upgrade

    app = make(url)
    with app.app_context():
        upgrade(revision="heads")
    session = sessionmaker(bind=database.for_app(app).engine, expire_on_commit=False)()
    world = build_world(session)
    family_plan(app, session, world)
    case_id = world.case1.id
    session.close()
    return app, case_id


def test_RL09_backup_restore_drill_matches_and_the_restored_app_works(
    urls: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source_url, restored_url = urls
    monkeypatch.setenv("PORTAL_BACKUP_KEY", KEY)
    source, case_id = seeded(source_url)
    restored = make(restored_url)
    backup_file = tmp_path / "rapport.backup"
    try:
        done = source.test_cli_runner().invoke(args=["backup", str(backup_file)])
        assert done.exit_code == 0, done.output
        raw = backup_file.read_bytes()
        assert raw.startswith(MAGIC)
        assert b"SENTINEL_F1_LASTNAME" not in raw and b"Gwen One" not in raw  # encrypted
        assert oct(backup_file.stat().st_mode & 0o777) == "0o600"

        started = time.monotonic()
        done = restored.test_cli_runner().invoke(args=["restore", str(backup_file)])
        restore_seconds = time.monotonic() - started
        assert done.exit_code == 0, done.output
        assert "restored" in done.output

        expected = table_digests(database.for_app(source).engine)
        actual = table_digests(database.for_app(restored).engine)
        assert sum(count for count, _ in expected.values()) > 30
        assert actual == expected
        if restored_url.startswith("sqlite"):
            with database.for_app(restored).engine.connect() as check:
                assert check.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        assert restore_seconds < 60  # RTO: the drill itself is seconds; see README

        browser = Browser(restored.test_client())
        browser.login("g1@family.test")
        plan = browser.get(f"/family/{case_id}/plan")
        assert plan.status_code == 200
        assert "Say goodbye at school" in plan.get_data(as_text=True)

        again = restored.test_cli_runner().invoke(args=["restore", str(backup_file)])
        assert again.exit_code != 0
        assert "not empty" in again.output
    finally:
        database.for_app(source).engine.dispose()
        database.for_app(restored).engine.dispose()


def test_RL09_a_wrong_key_or_a_changed_byte_is_refused(
    urls: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source_url, restored_url = urls
    monkeypatch.setenv("PORTAL_BACKUP_KEY", KEY)
    source, _ = seeded(source_url)
    restored = make(restored_url)
    backup_file = tmp_path / "rapport.backup"
    try:
        assert source.test_cli_runner().invoke(args=["backup", str(backup_file)]).exit_code == 0
        monkeypatch.setenv("PORTAL_BACKUP_KEY", OTHER_KEY)
        wrong = restored.test_cli_runner().invoke(args=["restore", str(backup_file)])
        assert wrong.exit_code != 0 and "wrong key" in wrong.output

        monkeypatch.setenv("PORTAL_BACKUP_KEY", KEY)
        data = bytearray(backup_file.read_bytes())
        data[len(data) // 2] ^= 0x01
        (tmp_path / "changed.backup").write_bytes(bytes(data))
        changed = restored.test_cli_runner().invoke(
            args=["restore", str(tmp_path / "changed.backup")]
        )
        assert changed.exit_code != 0 and "the file changed" in changed.output

        (tmp_path / "short.backup").write_bytes(backup_file.read_bytes()[:-10])
        short = restored.test_cli_runner().invoke(args=["restore", str(tmp_path / "short.backup")])
        assert short.exit_code != 0

        monkeypatch.delenv("PORTAL_BACKUP_KEY")
        nokey = source.test_cli_runner().invoke(args=["backup", str(tmp_path / "x.backup")])
        assert nokey.exit_code != 0 and "PORTAL_BACKUP_KEY" in nokey.output
    finally:
        database.for_app(source).engine.dispose()
        database.for_app(restored).engine.dispose()
