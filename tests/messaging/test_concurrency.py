"""Nothing lost (RL-02, RL-05, RL-06): 20 people posting at once give exactly 20 messages, numbered
in commit order; ten copies of one send give one message. Runs against a fresh temp-file SQLite
database, or a fresh PostgreSQL database when the suite runs on PostgreSQL."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from datetime import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.db import normalise_url
from portal.extensions import database
from portal.messages import services
from portal.models import Message, ServicePolicy, ThreadKind
from tests.conftest import Browser
from tests.factories import World, build_world


@pytest.fixture()
def fresh_database(tmp_path: Path) -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url or not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'concurrency.db'}"
        return
    parsed = make_url(normalise_url(url))
    name = f"{parsed.database}_concurrency"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
    with app.test_request_context():
        from flask import g

        g.db_session = session
        thread = services.do_open_thread(world.t1, world.case1, ThreadKind.FAMILY)
        session.commit()
        g.pop("db_session")
    thread_id = thread.id
    session.close()
    try:
        yield app, world, thread_id
    finally:
        database.for_app(app).engine.dispose()


KEY = re.compile(r'name="idempotency_key" type="hidden" value="([^"]+)"')


def run_together(jobs: list[threading.Thread]) -> None:
    for job in jobs:
        job.start()
    for job in jobs:
        job.join(timeout=120)
    assert not any(job.is_alive() for job in jobs)


def test_RL05_twenty_people_posting_at_once_give_twenty_messages_in_order(
    live_app: tuple[Flask, World, int],
) -> None:
    app, _world, thread_id = live_app
    posters = []
    for n in range(20):
        browser = Browser(app.test_client())
        browser.login("g1@family.test" if n % 2 else "t1@clinic.test")
        page = browser.get(f"/messages/{thread_id}").get_data(as_text=True)
        match = KEY.search(page)
        assert match
        posters.append((browser, match.group(1)))
    start = threading.Barrier(20)
    statuses: list[int] = []

    def send(n: int) -> None:
        browser, key = posters[n]
        start.wait()
        response = browser.post(
            f"/messages/{thread_id}", {"body": f"message {n}", "idempotency_key": key}
        )
        statuses.append(response.status_code)

    run_together([threading.Thread(target=send, args=(n,)) for n in range(20)])
    assert statuses == [303] * 20
    with app.app_context():
        from portal import db

        rows = db.session.execute(
            select(Message.id, Message.seq, Message.body)
            .where(Message.thread_id == thread_id)
            .order_by(Message.id)
        ).all()
    assert len(rows) == 20
    assert [seq for _id, seq, _body in rows] == list(range(1, 21))  # ids and numbers agree
    assert sorted(body for _i, _s, body in rows) == sorted(f"message {n}" for n in range(20))


def test_RL02_ten_copies_of_one_send_store_one_message(
    live_app: tuple[Flask, World, int],
) -> None:
    app, _world, thread_id = live_app
    browser = Browser(app.test_client())
    browser.login("g1@family.test")
    match = KEY.search(browser.get(f"/messages/{thread_id}").get_data(as_text=True))
    assert match
    form = {"body": "Only once", "idempotency_key": match.group(1)}
    token = browser.ensure_token()
    cookie = browser.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    start = threading.Barrier(10)
    statuses: list[int] = []

    def send() -> None:
        client = app.test_client()
        client.set_cookie(cookie.key, cookie.value)
        start.wait()
        response = client.post(f"/messages/{thread_id}", data={**form, "csrf_token": token})
        statuses.append(response.status_code)

    run_together([threading.Thread(target=send) for _ in range(10)])
    assert statuses == [303] * 10
    with app.app_context():
        from portal import db

        count = db.session.scalar(select(func.count(Message.id)).where(Message.body == "Only once"))
    assert count == 1
