"""The session cookie's payload is kept per content (issue 17, `portal/session_cookie.py`): the
cookie comes out byte for byte as Flask's own, each request gets its own session dict, and a
changed session or a forged cookie is treated as before."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

SESSIONS = [
    {"sid": "a" * 43, "_user_id": "7", "_fresh": True, "_permanent": True, "csrf_token": "f" * 40},
    {"sid": "b" * 43, "_user_id": "7", "_fresh": False, "terms_due": 1},
    {"_permanent": True, "rapport_next": ["/a", "/b"]},  # not plain: not kept
    {},
]


@pytest.mark.parametrize("content", SESSIONS)
def test_the_session_cookie_is_byte_for_byte_flasks_own(
    app: Flask, content: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from itsdangerous import timed

    monkeypatch.setattr(timed.TimestampSigner, "get_timestamp", lambda _self: 1_800_000_000)
    ours = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    flasks = SecureCookieSessionInterface().get_signing_serializer(app)
    assert flasks is not None
    for _ in range(2):  # the second time from what was kept
        cookie = ours.dumps(dict(content))
        assert cookie == flasks.dumps(dict(content))
        assert ours.loads(cookie) == flasks.loads(cookie) == content


def test_a_session_read_from_a_kept_payload_is_each_requests_own(app: Flask) -> None:
    ours = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    cookie = ours.dumps({"sid": "c" * 43, "_user_id": "9"})
    first = ours.loads(cookie)
    first["_user_id"] = "1"  # a request changing its session...
    assert ours.loads(cookie) == {"sid": "c" * 43, "_user_id": "9"}  # ...changes no other's


def test_a_changed_session_gets_a_new_cookie_and_a_forged_one_is_refused(app: Flask) -> None:
    ours = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    before = ours.dumps({"sid": "d" * 43, "_user_id": "9"})
    after = ours.dumps({"sid": "d" * 43, "_user_id": "9", "terms_due": True})
    # payload.timestamp.signature (a compressed payload starts with a dot of its own)
    payload_before, stamp, signature = before.rsplit(".", 2)
    payload_after = after.rsplit(".", 2)[0]
    assert payload_before != payload_after
    forged = ".".join([payload_after, stamp, signature])
    with pytest.raises(BadSignature):
        ours.loads(forged)


def test_a_true_and_a_one_are_kept_apart(app: Flask) -> None:
    # True == 1 and both hash alike: the kept payload of one must not be handed to the other.
    ours = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    flasks = SecureCookieSessionInterface().get_signing_serializer(app)
    assert flasks is not None
    as_true = ours.loads(ours.dumps({"_fresh": True}))
    as_one = ours.loads(ours.dumps({"_fresh": 1}))
    assert as_true["_fresh"] is True
    assert as_one["_fresh"] == 1 and as_one["_fresh"] is not True
    assert ours.dumps({"_fresh": 1}).split(".")[0] == flasks.dumps({"_fresh": 1}).split(".")[0]
