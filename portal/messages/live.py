"""Live updates across app servers: after a commit that changes a thread, its new version is
published on Redis; each open thread page holds a server-sent-event stream that passes the
signal on, and the page then fetches the new messages through the ordinary (scoped, escaped)
fragment view. Without REDIS_URL the pages poll instead.

The stream carries no message content, holds no database connection while it waits, and ends
after MESSAGES_STREAM_SECONDS; the browser reconnects through the full sign-in and membership
checks, so a removed member or an expired session is cut off at the next reconnect (AZ-09, SE-05).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app

log = logging.getLogger(__name__)

CHANNEL = "rapport:thread:{}"


def enabled(app: Flask | None = None) -> bool:
    return bool((app or current_app).config.get("REDIS_URL"))


def _client(app: Flask) -> Any:
    import redis

    client = app.extensions.get("rapport_redis")
    if client is None:
        client = redis.Redis.from_url(
            app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=2
        )
        app.extensions["rapport_redis"] = client
    return client


def publish(thread_id: int, version: int) -> None:
    """Tell every server's open streams that the thread changed; never fails the request (the
    pages also poll slowly as a fallback)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not enabled(app):
        return
    try:
        _client(app).publish(CHANNEL.format(thread_id), str(version))
    except Exception:
        log.warning("live: publish for thread %s failed", thread_id)


def subscribe(app: Flask, thread_id: int) -> Any:
    """Listen before the thread's version is read, so no change can fall between the two."""
    pubsub = _client(app).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL.format(thread_id))
    return pubsub


def stream(app: Flask, pubsub: Any, version: int) -> Iterator[str]:
    """Server-sent events: "changed" with the thread's version now, then whenever it moves."""
    seconds = float(app.config["MESSAGES_STREAM_SECONDS"])
    try:
        yield f"retry: 1000\nevent: changed\ndata: {version}\n\n"
        deadline = time.monotonic() + seconds
        last_beat = time.monotonic()
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=min(1.0, max(deadline - time.monotonic(), 0.01)))
            if message is not None and message.get("type") == "message":
                data = message["data"]
                text = data.decode() if isinstance(data, bytes) else str(data)
                yield f"event: changed\ndata: {int(text)}\n\n"
            elif time.monotonic() - last_beat > 10:
                last_beat = time.monotonic()
                yield ": keep-alive\n\n"
    finally:
        pubsub.close()
