"""RL-02 under load: ten simultaneous posts of one practice form store one practice."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from portal import create_app
from portal.db import get_session
from portal.models.ladders import PracticeAttempt, TokenEntry
from tests.support.browser import Browser
from tests.support.builders import a_ladder
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


def test_RL02_ten_parallel_posts_with_one_key_store_one_practice(tmp_path: Path) -> None:
    app = _file_app(tmp_path)
    with app.test_request_context():
        session = get_session()
        world = build_world(session)
        _, steps = a_ladder(world.t1, world.case1)
        session.commit()
        step_id = steps[0].id
    child = Browser(app.test_client())
    child.login("cody1", PIN)
    page = child.get(f"/me/ladder/steps/{step_id}").get_data(as_text=True)
    match = KEY.search(page)
    assert match
    form = {
        "csrf_token": child.ensure_token(),
        "idempotency_key": match.group(1),
        "when": "now",
        "fear_peak": "5",
        "completion": "full",
        "coach": "",
    }
    cookie = child.client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
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
    app.extensions["rapport_db"].engine.dispose()
