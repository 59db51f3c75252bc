"""Fixtures for messaging tests: case1 and case2 with their family threads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from flask import Flask
from sqlalchemy.orm import Session

from tests.support.builders import build_threads
from tests.support.rows import World


@pytest.fixture()
def threads(app: Flask, db_session: Session, world: World) -> dict[str, int]:
    return build_threads(app, db_session, world)


@pytest.fixture()
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(datetime.now(UTC).replace(microsecond=0), tick=False) as traveller:
        yield traveller
