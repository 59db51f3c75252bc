"""AU-03: online guessing is throttled. Only failures count; a throttled account is refused even
with the right secret; the limit lifts by itself (no permanent lockout)."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from flask import Blueprint, Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from portal.db import utcnow
from portal.extensions import limiter as portal_limiter
from tests.support.browser import Browser
from tests.support.rows import PASSWORD, PIN, World


def _try(browser: Browser, url: str, name: str, secret: str, address: str = "127.0.0.1") -> int:
    field = "email" if "@" in name else "username"
    secret_field = "password" if "@" in name else "secret"
    response = browser.client.post(
        url,
        data={field: name, secret_field: secret, "csrf_token": browser.ensure_token()},
        environ_base={"REMOTE_ADDR": address},
    )
    return response.status_code


def test_AU03_five_wrong_pins_a_minute_then_even_the_right_pin_waits(
    browser: Browser, world: World
) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False):
        browser.get("/login/kids")
        assert [_try(browser, "/login/kids", "cody1", "0000") for _ in range(5)] == [422] * 5
        assert _try(browser, "/login/kids", "cody1", PIN) == 429
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert _try(browser, "/login/kids", "cody1", PIN) == 302


def test_AU03_successful_sign_ins_do_not_count(new_browser, world: World) -> None:
    for _ in range(8):
        person = new_browser()
        person.get("/login")
        assert _try(person, "/login", "g1@family.test", PASSWORD) == 302


def test_AU03_one_account_is_not_throttled_by_another(browser: Browser, world: World) -> None:
    browser.get("/login")
    for _ in range(6):
        _try(browser, "/login", "g2@family.test", "wrong password")
    assert _try(browser, "/login", "g1@family.test", PASSWORD) == 302


def test_AU03_a_hard_ceiling_of_100_failures_an_hour_per_account_from_any_address(
    browser: Browser, world: World
) -> None:
    start = utcnow()
    browser.get("/login")
    with time_machine.travel(start, tick=False):
        answers = [
            _try(browser, "/login", "g1@family.test", "wrong", address=f"10.0.{n // 4}.{n}")
            for n in range(100)
        ]
        assert 429 not in answers
        assert _try(browser, "/login", "g1@family.test", PASSWORD, address="10.9.9.9") == 429
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        assert _try(browser, "/login", "g1@family.test", PASSWORD, address="10.9.9.9") == 302


def _bare_app_with(limiter_args: dict[str, object]) -> tuple[Flask, Limiter]:
    """A bare app with its own limiter of the portal's kind (the portal's is one object for the
    whole test process, so app-wide limits are tried on another)."""
    app = Flask(__name__)
    limiter = type(portal_limiter)(
        key_func=get_remote_address, storage_uri="memory://", **limiter_args
    )
    limiter.init_app(app)

    @app.get("/page")
    def page() -> str:
        return "a page without a limit of its own"

    return app, limiter


def test_a_default_limit_is_still_checked_before_every_request() -> None:
    """Issue 17: the check before every request runs only while such limits exist; they do."""
    app, _ = _bare_app_with({"default_limits": ["2 per minute"]})
    client = app.test_client()
    assert [client.get("/page").status_code for _ in range(3)] == [200, 200, 429]


def test_a_blueprint_limit_added_after_start_up_is_checked() -> None:
    app, limiter = _bare_app_with({})
    bp = Blueprint("limited", __name__)

    @bp.get("/limited")
    def limited() -> str:
        return "a page under its blueprint's limit"

    limiter.limit("1 per minute")(bp)
    app.register_blueprint(bp)
    client = app.test_client()
    assert [client.get("/limited").status_code for _ in range(2)] == [200, 429]
    assert [client.get("/page").status_code for _ in range(3)] == [200, 200, 200]
