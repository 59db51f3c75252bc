"""The accessibility sweep (tests/e2e/test_accessibility.py) for everybody but the clinic admin,
whose sweep, the longest, runs in that module: axe-core on every page each person reaches, in
English on a phone and in Spanish on a laptop, zero violations allowed (tests/e2e/sweep.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import LiveServer
from tests.e2e.sweep import PEOPLE, device_for, sweep_person

OTHERS = [who for who in PEOPLE if who != "admin-rivera"]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("who", OTHERS)
def test_every_page_has_no_axe_violations(
    who: str, language: str, new_page: Callable[..., Page], live_server: LiveServer
) -> None:
    sweep_person(who, language, device_for(new_page)(language), live_server)
