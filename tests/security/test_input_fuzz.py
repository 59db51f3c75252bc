"""IN-02 over every form: each POST route of the access matrix, posted by an actor who may use it,
with each field in turn replaced by hostile values. Never a 500: a field error (400/422), a
refusal, or a success."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.support.browser import Browser
from tests.support.matrix import FORMS, MATRIX, NORMAL, enter_state, form_for
from tests.support.people import sign_in
from tests.support.rows import World
from tests.support.scene import Scene
from tests.support.shared import (  # noqa: F401 - the module's fixtures (one scene, savepoints)
    savepoint_session,
    scene_built_once,
    scene_in_savepoint,
    signed_in_browsers,
    world_in_savepoint,
)

HOSTILE = [
    "",
    "x" * 12_000,
    "-99999999999999999999",
    "1e309",
    "NaN",
    "\x00\r\n<script>alert(1)</script>",
    "2026-02-30",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ عربى",
]
POSTS = [
    row
    for row in MATRIX
    if row.method == "POST"
    and row.state == NORMAL
    and row.endpoint in FORMS
    and any(expect.allowed for actor, expect in row.cells.items() if actor != "anon")
]


@pytest.mark.parametrize("row", POSTS, ids=[row.endpoint for row in POSTS])
def test_IN02_hostile_values_in_any_field_never_cause_a_500(
    app: Flask,
    db_session: Session,
    world: World,
    scene: Scene,
    new_browser: Callable[[], Browser],
    row: object,
) -> None:
    from tests.support.matrix import Row

    assert isinstance(row, Row)
    actor = next(a for a, expect in row.cells.items() if expect.allowed and a != "anon")
    browser = sign_in(new_browser, actor)
    enter_state(row.state, actor, browser, scene, app)
    url = scene.url(app, row)
    fields = form_for(row, scene)
    for name in fields:
        for value in HOSTILE:
            form = {**form_for(row, scene), name: value}
            response = browser.post(url, form)
            assert response.status_code < 500, f"{row.endpoint} {name}={value[:20]!r}"
