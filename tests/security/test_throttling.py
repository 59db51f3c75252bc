"""AU-03: online guessing is throttled. Only failures count; a throttled account is refused even
with the right secret; the limit lifts by itself (no permanent lockout)."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from portal.db import utcnow
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
