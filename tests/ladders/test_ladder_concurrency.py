"""RL-02 under load: ten simultaneous posts of one practice form store one practice.

Logging a practice reads first (issue 17, portal.web.reads_first): on SQLite the sign-in, the
case, the consent, the step and the form are read without the write lock, which is taken only to
store the try; every row read is then read again under the lock. A change that lands in between
is seen: a retired step or an ended sign-in stores nothing, and an unrelated change to a row it
read makes it decide again and store the try once. Two devices logging at once lose nothing and
see no "database is locked"."""

from __future__ import annotations

import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import create_app
from portal.db import get_session
from portal.ladders import child_views
from portal.models import AuditLog
from portal.models.ladders import CaseTally, PracticeAttempt, TokenEntry
from tests.support.browser import Browser
from tests.support.builders import a_ladder
from tests.support.concurrency import run_together
from tests.support.rows import PIN, build_world

KEY = re.compile(r'name="idempotency_key" type="hidden" value="([^"]+)"')


def _file_app(tmp_path: Path) -> Flask:
    from flask_migrate import upgrade

    app = create_app(
        {
            "TESTING": True,
            "PORTAL_ENV": "test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'rl02.db'}",
            "SECRET_KEY": "r" * 40,
        }
    )
    with app.app_context():
        upgrade(revision="heads")
    return app


class Child:
    """Cody signed in on a device, on a step of his ladder."""

    def __init__(self, app: Flask, step_id: int) -> None:
        self.app = app
        self.step_id = step_id
        self.browser = Browser(app.test_client())
        self.browser.login("cody1", PIN)

    def form(self) -> dict[str, str]:
        """The step's form as the page gives it (its idempotency key), filled in as a full try."""
        page = self.browser.get(f"/me/ladder/steps/{self.step_id}").get_data(as_text=True)
        match = KEY.search(page)
        assert match
        form = {"idempotency_key": match.group(1), "when": "now", "fear_peak": "5"}
        return form | {"completion": "full", "coach": ""}

    def log(self, **fields: str) -> Any:
        return self.browser.post(f"/me/ladder/steps/{self.step_id}", self.form() | fields)


@pytest.fixture()
def ladder_app(tmp_path: Path) -> Iterator[tuple[Flask, Path, int]]:
    app = _file_app(tmp_path)
    path = tmp_path / "rl02.db"
    with app.test_request_context():
        session = get_session()
        world = build_world(session)
        _, steps = a_ladder(world.t1, world.case1)
        session.commit()
        step_id = steps[0].id
    try:
        yield app, path, step_id
    finally:
        app.extensions["rapport_db"].engine.dispose()


def test_RL02_ten_parallel_posts_with_one_key_store_one_practice(
    ladder_app: tuple[Flask, Path, int],
) -> None:
    app, _path, step_id = ladder_app
    child = Child(app, step_id)
    form = {"csrf_token": child.browser.ensure_token(), **child.form()}
    cookie = child.browser.client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None

    def post(_: int) -> tuple[int, str]:
        client = app.test_client()
        client.set_cookie(cookie.key, cookie.value)
        response = client.post(f"/me/ladder/steps/{step_id}", data=form)
        return response.status_code, response.headers.get("Location", "")

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(post, range(10)))
    assert answers == [(303, "/me/ladder")] * 10
    with app.app_context():
        session = get_session()
        assert session.scalar(select(func.count()).select_from(PracticeAttempt)) == 1
        assert session.scalar(select(func.count()).select_from(TokenEntry)) == 1


def _between_read_and_write(monkeypatch: pytest.MonkeyPatch, act: Callable[[], None]) -> None:
    """Run `act` once the request has read and checked everything, before it asks to write."""
    checked = child_views._practice_input
    done: list[bool] = []

    def then_act(*args: Any) -> Any:
        data = checked(*args)
        if not done:
            done.append(True)
            act()
        return data

    monkeypatch.setattr(child_views, "_practice_input", then_act)


def _other_connection(path: Path, statement: str, *values: object) -> None:
    other = sqlite3.connect(path, timeout=1, isolation_level=None)
    try:
        other.execute(statement, values)
    finally:
        other.close()


def _count(app: Flask, what: Any, *where: Any) -> int:
    with app.app_context():
        return int(get_session().scalar(select(func.count()).select_from(what).where(*where)))


def test_the_write_lock_is_free_while_the_practice_is_read_and_checked(
    ladder_app: tuple[Flask, Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, path, step_id = ladder_app
    child = Child(app, step_id)
    other_could_write: list[bool] = []

    def try_to_write() -> None:
        other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            other_could_write.append(True)
        except sqlite3.OperationalError:
            other_could_write.append(False)
        finally:
            other.close()

    _between_read_and_write(monkeypatch, try_to_write)
    response = child.log()
    assert response.status_code == 303
    assert other_could_write == [True]
    assert _count(app, PracticeAttempt) == 1


def test_a_step_retired_between_the_read_and_the_write_stores_nothing(
    ladder_app: tuple[Flask, Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, path, step_id = ladder_app
    child = Child(app, step_id)
    retire = "UPDATE ladder_steps SET retired_at = '2026-01-01 00:00:00.000000' WHERE id = ?"
    _between_read_and_write(monkeypatch, lambda: _other_connection(path, retire, step_id))
    response = child.log()
    assert response.status_code == 404  # as for a step retired before the request came
    assert _count(app, PracticeAttempt) == 0
    assert _count(app, TokenEntry) == 0
    assert _count(app, AuditLog, AuditLog.action == "create", AuditLog.outcome == "success") == 0


def test_a_sign_in_ended_between_the_read_and_the_write_stores_nothing(
    ladder_app: tuple[Flask, Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, path, step_id = ladder_app
    child = Child(app, step_id)
    end = "UPDATE auth_sessions SET ended_at = '2026-01-01 00:00:00.000000', end_reason = 'logout'"
    _between_read_and_write(monkeypatch, lambda: _other_connection(path, end))
    response = child.log()
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert _count(app, PracticeAttempt) == 0


def test_a_row_it_read_changing_in_between_still_stores_the_try_once(
    ladder_app: tuple[Flask, Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The step's title changed: the request reads everything again under the lock and stores
    the try once, with one audit row and the ledger line naming the step as it is now."""
    app, path, step_id = ladder_app
    child = Child(app, step_id)
    rename = "UPDATE ladder_steps SET title = 'Pat a big dog' WHERE id = ?"
    _between_read_and_write(monkeypatch, lambda: _other_connection(path, rename, step_id))
    response = child.log()
    assert response.status_code == 303
    assert response.headers["Location"] == "/me/ladder"
    assert _count(app, PracticeAttempt) == 1
    assert _count(app, TokenEntry, TokenEntry.reason == "Practised “Pat a big dog”") == 1
    assert _count(app, AuditLog, AuditLog.action == "create", AuditLog.object_id == step_id) == 1


def test_two_devices_logging_at_once_store_every_try_and_see_no_lock_error(
    ladder_app: tuple[Flask, Path, int],
) -> None:
    app, _path, step_id = ladder_app
    devices = [Child(app, step_id) for _ in range(2)]
    tries = 12
    start = threading.Barrier(len(devices))
    statuses: list[int] = []

    def log_in_a_loop(device: Child) -> None:
        start.wait()
        for _ in range(tries):
            statuses.append(device.log().status_code)

    run_together([threading.Thread(target=log_in_a_loop, args=(d,)) for d in devices])
    assert statuses == [303] * (tries * len(devices))
    assert _count(app, PracticeAttempt) == tries * len(devices)
    assert _count(app, TokenEntry) == tries * len(devices)
    with app.app_context():
        session = get_session()
        earned = session.scalar(select(func.sum(TokenEntry.amount)))
        assert session.scalar(select(CaseTally.tokens_earned)) == earned


def test_a_practice_refused_before_its_write_leaves_the_next_request_free_to_write(
    ladder_app: tuple[Flask, Path, int],
) -> None:
    """A device whose sign-in ended is turned away while its practice only read; the connection
    goes back to the pool, and the next request on it (signing in again, which writes) is not
    taken for a reads-first request writing too early."""
    app, path, step_id = ladder_app
    child = Child(app, step_id)
    form = {"idempotency_key": str(uuid.uuid4()), "when": "now", "fear_peak": "5"}
    _other_connection(path, "UPDATE auth_sessions SET ended_at = '2026-01-01 00:00:00.000000'")
    refused = child.browser.post(f"/me/ladder/steps/{step_id}", form | {"completion": "full"})
    assert refused.status_code == 302
    assert "/login" in refused.headers["Location"]
    child.browser.login("cody1", PIN)
    assert child.log().status_code == 303
    assert _count(app, PracticeAttempt) == 1
