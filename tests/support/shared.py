"""The fast loop: the scene built once per module, each test in a savepoint of it, and each person
signed in once per module (through the real sign-in routes) then reused by cookie.

A test module opts in by importing these fixtures, which replace `db_session`, `world`, `scene`
and `new_browser` for that module only:

    from tests.support.shared import (  # noqa: F401 - fixtures, used by name
        savepoint_session, scene_built_once, scene_in_savepoint, signed_in_browsers,
        world_in_savepoint,
    )

What a test does (requests, commits, signing out, child mode) is rolled back with its savepoint,
so every test starts from the same scene. Tests that need an empty database or their own people
stay on tests/conftest.py's per-test fixtures. A saved sign-in is reused while its password
counts as recently typed (FRESH_SIGN_IN, AU-05); after that each test signs its people in afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest
from flask import Flask
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from portal.db import utcnow
from portal.models import Case, CaseTherapist, Clinic, GuardianLink, Invitation, User
from portal.security import FRESH_SIGN_IN
from tests.support.browser import Browser
from tests.support.databases import rolled_back
from tests.support.people import SIGN_IN, sign_in
from tests.support.rows import World, build_world
from tests.support.scene import Scene, build_scene


@dataclass
class SharedScene:
    """What the module's tests share: the connection holding the scene, and the saved sign-ins."""

    connection: Connection
    factory: sessionmaker[Session]
    world_ids: dict[str, int]
    scene: Scene
    sign_ins: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    signed_in_at: datetime = field(default_factory=utcnow)


@pytest.fixture(scope="module", name="shared_scene")
def scene_built_once(app: Flask) -> Iterator[SharedScene]:
    with rolled_back(app) as (connection, factory):
        session = factory()
        world = build_world(session)
        shared = SharedScene(
            connection,
            factory,
            {f.name: getattr(world, f.name).id for f in fields(World)},
            build_scene(app, session, world),
        )
        session.close()
        cookie_name = app.config["SESSION_COOKIE_NAME"]
        for actor in SIGN_IN:
            if actor in ("C2", "T3"):  # not actors of the scene's tests
                continue
            browser = sign_in(lambda: Browser(app.test_client()), actor)
            cookie = browser.client.get_cookie(cookie_name)
            assert cookie is not None, f"{actor} was not signed in"
            shared.sign_ins[actor] = (cookie.value, browser.token)
        shared.signed_in_at = utcnow()
        yield shared


@pytest.fixture(name="db_session")
def savepoint_session(shared_scene: SharedScene) -> Iterator[Session]:
    """A session in a savepoint of the module's scene; the app's requests share it."""
    savepoint = shared_scene.connection.begin_nested()
    session = shared_scene.factory()
    try:
        yield session
    finally:
        session.close()
        if savepoint.is_active:
            savepoint.rollback()


ModelT = TypeVar("ModelT")
WORLD_TYPES: dict[str, type[Any]] = {
    "clinic": Clinic,
    "case1": Case,
    "case2": Case,
    "link1": GuardianLink,
    "link2": GuardianLink,
}


@pytest.fixture(name="world")
def world_in_savepoint(db_session: Session, shared_scene: SharedScene) -> World:
    """The module's people and cases, loaded afresh in this test's session."""
    loaded = {
        name: _get(db_session, WORLD_TYPES.get(name, User), object_id)
        for name, object_id in shared_scene.world_ids.items()
    }
    return World(**loaded)


def _get(db_session: Session, model: type[ModelT], object_id: int) -> ModelT:
    found = db_session.get(model, object_id)
    assert found is not None, f"{model.__name__} {object_id} is gone"
    return found


@pytest.fixture(name="scene")
def scene_in_savepoint(db_session: Session, world: World, shared_scene: SharedScene) -> Scene:
    built = shared_scene.scene
    return Scene(
        world,
        dict(built.values),
        db_session,
        _get(db_session, Clinic, built.other_clinic.id),
        _get(db_session, User, built.t3.id),
        _get(db_session, CaseTherapist, built.t3_link.id),
        _get(db_session, CaseTherapist, built.t4_link.id),
        _get(db_session, Invitation, built.invitation1.id),
        _get(db_session, Invitation, built.invitation2.id),
        built.invitation1_token,
    )


class SignedInBrowsers:
    """`new_browser()` for the module: a new browser, which `sign_in` fills with the person's
    saved sign-in instead of typing password and code again."""

    def __init__(self, app: Flask, shared: SharedScene) -> None:
        self.app = app
        self.shared = shared

    def __call__(self) -> Browser:
        return Browser(self.app.test_client())

    def restore(self, browser: Browser, actor: str) -> bool:
        saved = self.shared.sign_ins.get(actor)
        # A saved sign-in's password is "recent" only for FRESH_SIGN_IN (AU-05): a module that
        # runs longer (a loaded machine) signs people in afresh instead.
        stale = utcnow() - self.shared.signed_in_at > FRESH_SIGN_IN - timedelta(minutes=1)
        if saved is None or stale:
            return False
        cookie, token = saved
        browser.client.set_cookie(self.app.config["SESSION_COOKIE_NAME"], cookie)
        browser.token = token
        return True


@pytest.fixture(name="new_browser")
def signed_in_browsers(
    app: Flask, db_session: Session, shared_scene: SharedScene
) -> Callable[[], Browser]:
    return SignedInBrowsers(app, shared_scene)
