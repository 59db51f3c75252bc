"""Run the suite at another moment: `TRAVEL_TO=2026-12-06T00:30:00+00:00 python -m pytest -p
tests.support.travel ...` starts the clock there (and lets it tick) for the whole run. CI runs
whenever a session stops, so the suite must pass at any hour and on any weekday; this is how the
time-of-day failures of 2026-12-05 were found (README, "Tests")."""

from __future__ import annotations

import os
from typing import Any

import pytest
import time_machine

_TRAVELS: list[Any] = []


def pytest_configure(config: pytest.Config) -> None:
    if moment := os.environ.get("TRAVEL_TO"):
        travel = time_machine.travel(moment, tick=True)
        travel.start()
        _TRAVELS.append(travel)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _TRAVELS:
        _TRAVELS.pop().stop()
