"""Test fixtures: a real database (SQLite file, or PostgreSQL via TEST_DATABASE_URL/DATABASE_URL),
migrated once with Alembic; every test runs inside a transaction that is rolled back afterwards.
CSRF stays on, as in production: `Browser.post` sends the token a real page gave it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal import create_app, db
from portal.extensions import database
from tests.support.browser import Browser
from tests.support.databases import process_database, rolled_back
from tests.support.rows import World, build_world
from tests.support.scene import Scene, build_scene

# No audit sealer thread behind the apps tests build without TESTING (the production-config tests):
# one outliving its test fails on a closed database and formats its traceback, and on CPython 3.11
# a traceback's ast.parse in one thread racing werkzeug's rule compiling in another raised
# "SystemError: AST constructor recursion depth mismatch" in an unrelated test. Tests of the
# sealer set AUDIT_SEAL_DELAY themselves.
os.environ.setdefault("PORTAL_AUDIT_SEAL_DELAY", "off")
# With no sealer behind them, those apps' page views must not spool their audit rows either: the
# rows would wait beside the shared test database and join whichever test seals next. Tests of
# the spool set AUDIT_READ_SPOOL themselves.
os.environ.setdefault("PORTAL_AUDIT_READ_SPOOL", "off")

# Fixtures shared by all tests that live in tests/support (fixtures cannot be imported by name).
pytest_plugins = ["tests.support.concurrency"]

# The long modules: a browser journey or sweep, the HTML checker, a full crawl. Few tests each,
# but most of the suite's time (the accessibility sweeps alone ~40 %).
_LONG = {"browser", "vnu", "matrix"}


@pytest.hookimpl(trylast=True)  # after tests/e2e/conftest.py has marked its tests `browser`
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules in the order pytest-xdist hands them out (the Makefile passes
    --no-loadscope-reorder): the long ones first, then the rest, each group by its number of
    tests, most first. By default xdist orders modules by number of tests alone, so a sweep of 6
    long tests or the HTML check (one test, ~15 s) came last and ran alone while the other core
    sat idle. A module's tests keep their order."""
    count: dict[object, int] = {}
    long: set[object] = set()
    for item in items:
        count[item.path] = count.get(item.path, 0) + 1
        if _LONG & {mark.name for mark in item.iter_markers()}:
            long.add(item.path)
    first = {path: n for n, path in enumerate(dict.fromkeys(item.path for item in items))}
    items.sort(key=lambda item: (item.path not in long, -count[item.path], first[item.path]))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This process's test database (one per xdist worker: tests/support/databases.py)."""
    with process_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "PORTAL_ENV": "test",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "PORTAL_BASE_URL": "http://portal.test",
            "MESSAGES_STREAM_SECONDS": 0.5,  # a live stream ends quickly in tests (REDIS_URL)
        }
    )
    with app.app_context():
        from flask_migrate import downgrade, upgrade

        downgrade(revision="base")  # a PostgreSQL test database may hold an earlier run
        upgrade(revision="heads")
    yield app
    database.for_app(app).engine.dispose()


@pytest.fixture()
def db_session(app: Flask) -> Iterator[Session]:
    """A session for the test itself; the app's requests share its outer transaction."""
    with rolled_back(app) as (_, factory):
        session = factory()
        try:
            yield session
        finally:
            session.close()


@pytest.fixture()
def world(db_session: Session) -> World:
    return build_world(db_session)


@pytest.fixture()
def browser(app: Flask, db_session: Session) -> Browser:
    return Browser(app.test_client())


@pytest.fixture()
def new_browser(app: Flask, db_session: Session) -> Any:
    def make() -> Browser:
        return Browser(app.test_client())

    return make


class SameOriginClient(FlaskClient):
    """A browser on the portal's own https origin. It sends the same-origin Referer that
    `Referrer-Policy: same-origin` keeps, which Flask-WTF requires over https (SECURITY D5)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_REFERER"] = "https://localhost/"


@pytest.fixture()
def make_app(app: Flask, db_session: Session) -> Iterator[Any]:
    """Build a throwaway app (its own config, room for test-only routes) that shares this test's
    rolled-back transaction, so it sees `world` and leaves nothing behind. The shared `app` is
    never touched: routes cannot be added to it once it has served a request."""
    shared = database.for_app(app)
    engines: list[Any] = []

    def make(config: dict[str, Any] | None = None, *, production: bool = False) -> Flask:
        base: dict[str, Any] = {
            "DATABASE_URL": app.config["DATABASE_URL"],
            "PORTAL_BASE_URL": "https://portal.test" if production else "http://portal.test",
        }
        if production:
            base.update(PORTAL_ENV="production", SECRET_KEY=os.urandom(32).hex())
        else:
            base.update(TESTING=True, PORTAL_ENV="test", SECRET_KEY=app.config["SECRET_KEY"])
        throwaway = create_app({**base, **(config or {})})
        if production:  # its test client speaks https (PREFERRED_URL_SCHEME), like a browser
            throwaway.test_client_class = SameOriginClient
        own = database.for_app(throwaway)
        engines.append(own.engine)
        own.sessionmaker = shared.sessionmaker
        return throwaway

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture()
def in_app(app: Flask, db_session: Session) -> Iterator[Session]:
    """Call services directly: `portal.db.session` is the test's own session."""
    with app.test_request_context(), db.bound(db_session):
        yield db_session


@pytest.fixture(autouse=True)
def _fresh_sign_in_throttle(app: Flask) -> Iterator[None]:
    """Each test starts with no failed sign-ins counted against it (AU-03 counters are shared)."""
    from portal.extensions import limiter

    limiter.reset()
    yield


@pytest.fixture()
def scene(app: Flask, db_session: Session, world: World) -> Scene:
    """The shared scene with case1's records (tests/support/scene.py)."""
    return build_scene(app, db_session, world)
