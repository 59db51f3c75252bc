"""Nothing lost (RL-02, RL-05, RL-06): 20 people posting at once give exactly 20 messages, numbered
in commit order; ten copies of one send give one message. Runs against a fresh temp-file SQLite
database, or a fresh PostgreSQL database when the suite runs on PostgreSQL."""

from __future__ import annotations

import re
import threading

from flask import Flask
from sqlalchemy import func, select

from portal.models import Message
from tests.support.browser import Browser
from tests.support.concurrency import run_together
from tests.support.rows import World

KEY = re.compile(r'name="idempotency_key" type="hidden" value="([^"]+)"')


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
