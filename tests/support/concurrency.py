"""Fixtures for tests of many people at once: a fresh database of their own (a temp-file SQLite,
or a fresh PostgreSQL database when the suite runs on PostgreSQL) and an app on it with the two
families and case1's family thread. Registered for all tests by tests/conftest.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import time
from pathlib import Path

import pytest
from flask import Flask

from portal import create_app
from portal.extensions import database
from portal.messages import services
from portal.models import ServicePolicy, ThreadKind
from tests.support.databases import configured_url, postgres_database, worker
from tests.support.rows import World, build_world
from tests.support.session import services_on


@pytest.fixture()
def fresh_database(tmp_path: Path) -> Iterator[str]:
    url = configured_url()
    if not url or not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'concurrency.db'}"
        return
    with postgres_database(url, f"concurrency{worker()}") as fresh:
        yield fresh


@pytest.fixture()
def live_app(fresh_database: str) -> Iterator[tuple[Flask, World, int]]:
    app = create_app(
        {
            "TESTING": True,
            "PORTAL_ENV": "test",
            "DATABASE_URL": fresh_database,
            "SECRET_KEY": "concurrency-secret-key-that-is-long-enough-0123456789",
            "PORTAL_BASE_URL": "http://portal.test",
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
    session = database.for_app(app).sessionmaker()
    world = build_world(session)
    # Always in office hours: no automatic notices in this count.
    session.add(
        ServicePolicy(
            therapist_id=world.t1.id,
            office_days=127,
            opens_at=time(0, 0),
            closes_at=time(23, 59, 59),
            reply_window_days=2,
        )
    )
    session.commit()
    with services_on(app, session):
        thread = services.do_open_thread(world.t1, world.case1, ThreadKind.FAMILY)
    thread_id = thread.id
    session.close()
    try:
        yield app, world, thread_id
    finally:
        database.for_app(app).engine.dispose()


def run_together(jobs: list[threading.Thread]) -> None:
    for job in jobs:
        job.start()
    for job in jobs:
        job.join(timeout=120)
    assert not any(job.is_alive() for job in jobs)
