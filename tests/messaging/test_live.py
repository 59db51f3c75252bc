"""Live updates: server-sent events over Redis pub/sub (several app servers), or polling without
Redis; background requests never keep a session alive (SE-05) and still need a member (AZ-09)."""

from __future__ import annotations

import threading
import time as clock_time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy.orm import Session

from tests.support.browser import Browser
from tests.support.rows import World

HTMX = {"HX-Request": "true"}
REDIS_URL = "redis://127.0.0.1:6379/15"
# The sign-in limiter is one extension object: an app made here must not move it onto Redis for
# the rest of this test process (AU-03's tests travel in time, which Redis's expiry ignores, and
# Redis would share their counters with the other xdist worker).
LIMITER_IN_MEMORY = {"RATELIMIT_STORAGE_URI": "memory://"}


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


needs_redis = pytest.mark.skipif(not redis_available(), reason="Redis not running on 127.0.0.1")


def signed_in(app: Flask, who: str) -> Browser:
    browser = Browser(app.test_client())
    browser.login(who)
    return browser


@needs_redis
def test_a_new_message_reaches_an_open_stream_on_another_server_within_two_seconds(
    make_app: Any, world: World, threads: dict[str, int]
) -> None:
    config = {"REDIS_URL": REDIS_URL, "MESSAGES_STREAM_SECONDS": 4, **LIMITER_IN_MEMORY}
    server_a, server_b = make_app(config), make_app(config)  # two app servers, one Redis
    thread_id = threads["family_thread"]
    gwen = signed_in(server_a, "g1@family.test")
    tess = signed_in(server_b, "t1@clinic.test")
    response = gwen.client.get(f"/messages/{thread_id}/stream", buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    events: list[tuple[float, str]] = []

    def listen() -> None:
        for chunk in response.response:
            text = chunk.decode() if isinstance(chunk, bytes) else chunk
            events.append((clock_time.monotonic(), text))

    listener = threading.Thread(target=listen)
    listener.start()
    clock_time.sleep(0.5)
    sent_at = clock_time.monotonic()
    posted = tess.post(
        f"/messages/{thread_id}", {"body": "Live!", "idempotency_key": str(uuid.uuid4())}
    )
    assert posted.status_code == 303
    listener.join(timeout=10)
    response.close()
    changed = [(at, text) for at, text in events if "event: changed" in text]
    assert len(changed) >= 2, events  # the version on connect, then the new message
    latency = changed[-1][0] - sent_at
    print(f"live: stream event {latency * 1000:.0f} ms after the send returned")
    assert latency < 2.0, latency
    assert "Live!" not in "".join(text for _, text in events)  # a signal, never content


@needs_redis
def test_the_stream_answers_404_to_a_non_member_and_ends_by_itself(
    make_app: Any, world: World, threads: dict[str, int]
) -> None:
    server = make_app({"REDIS_URL": REDIS_URL, "MESSAGES_STREAM_SECONDS": 0.3, **LIMITER_IN_MEMORY})
    outsider = signed_in(server, "g2@family.test")
    assert outsider.client.get(f"/messages/{threads['family_thread']}/stream").status_code == 404
    member = signed_in(server, "g1@family.test")
    started = clock_time.monotonic()
    body = member.client.get(f"/messages/{threads['family_thread']}/stream").get_data(as_text=True)
    assert clock_time.monotonic() - started < 3
    assert body.startswith("retry: 1000\nevent: changed\n")


def test_without_redis_there_is_no_stream_and_the_page_polls(
    new_browser: Callable[[], Browser], world: World, threads: dict[str, int]
) -> None:
    gwen = new_browser()
    gwen.login("g1@family.test")
    stream = gwen.client.get(f"/messages/{threads['family_thread']}/stream")
    page = gwen.get(f"/messages/{threads['family_thread']}").get_data(as_text=True)
    if gwen.client.application.config.get("REDIS_URL"):
        pytest.skip("the suite runs with REDIS_URL")
    assert stream.status_code == 204
    assert 'data-hx-trigger="every 1s"' in page and "data-stream-url" not in page


@pytest.mark.parametrize("kind", ["poll", "read", "stream"])
def test_SE05_background_requests_never_extend_the_idle_timeout(
    new_browser: Callable[[], Browser],
    world: World,
    db_session: Session,
    threads: dict[str, int],
    kind: str,
) -> None:
    thread_id = threads["family_thread"]
    with time_machine.travel(datetime.now(UTC).replace(microsecond=0), tick=False) as traveller:
        gwen = new_browser()
        gwen.login("g1@family.test")
        for _ in range(61):  # every 30 s for 30.5 minutes of an unattended screen
            traveller.shift(timedelta(seconds=30))
            if kind == "poll":
                response = gwen.client.get(
                    f"/messages/{thread_id}/updates?v=0&skip_timeout_reset=1", headers=HTMX
                )
            elif kind == "read":
                response = gwen.htmx("POST", f"/messages/{thread_id}/read", {"seq": "1"})
            else:
                response = gwen.client.get(f"/messages/{thread_id}/stream", headers=HTMX)
            if response.status_code == 401:
                break
            assert response.status_code in (200, 204), response.status_code
        assert response.status_code == 401
        assert response.headers["HX-Redirect"] == "/login?expired=1"
        page = gwen.get(f"/family/{world.case1.id}")
        assert page.status_code == 302 and page.headers["Location"].startswith("/login")


def test_background_requests_still_need_a_signed_in_user(
    new_browser: Callable[[], Browser], world: World, threads: dict[str, int]
) -> None:
    anonymous = new_browser()
    thread_id = threads["family_thread"]
    for url in (f"/messages/{thread_id}/updates?v=0", f"/messages/{thread_id}/stream"):
        assert anonymous.client.get(url, headers=HTMX).status_code == 401
