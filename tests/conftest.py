"""Test fixtures: a real database (SQLite file, or PostgreSQL via TEST_DATABASE_URL/DATABASE_URL),
migrated once with Alembic; every test runs inside a transaction that is rolled back afterwards.
CSRF stays on (STYLE.md): `Browser.post` sends the token a real page gave it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from portal import create_app
from portal.extensions import database
from tests.factories import World, build_world


def _database_url(tmp_dir: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    return url or f"sqlite:///{tmp_dir / 'test.db'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp_dir = tmp_path_factory.mktemp("db")
    app = create_app(
        {
            "TESTING": True,
            "PORTAL_ENV": "test",
            "DATABASE_URL": _database_url(tmp_dir),
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
    app_database = database.for_app(app)
    connection = app_database.engine.connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    previous = app_database.sessionmaker
    app_database.sessionmaker = factory
    session = factory()
    try:
        yield session
    finally:
        session.close()
        app_database.sessionmaker = previous
        outer.rollback()
        connection.close()


@pytest.fixture()
def world(db_session: Session) -> World:
    return build_world(db_session)


CSRF_IN_HEADERS = re.compile(r"data-hx-headers='(\{[^']*\})'")
CSRF_IN_FORM = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Browser:
    """A test client that behaves like a person's browser: it reads CSRF tokens from pages."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token: str | None = None
        # A therapist's password sign-in goes on through the second step with their
        # authenticator's code (AU-08), so tests sign anyone in with one post to /login.
        # Tests of the second step itself turn this off.
        self.auto_second_step = True

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(url, **kwargs)
        self._remember_token(response)
        return response

    def _remember_token(self, response: TestResponse) -> None:
        text = response.get_data(as_text=True)
        match = CSRF_IN_HEADERS.search(text)
        if match:
            self.token = json.loads(match.group(1))["X-CSRFToken"]
        elif form_match := CSRF_IN_FORM.search(text):
            self.token = form_match.group(1)

    def ensure_token(self) -> str:
        if self.token is None:
            self.get("/login")
        assert self.token is not None
        return self.token

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        payload = dict(data or {})
        payload.setdefault("csrf_token", self.ensure_token())
        response = self.client.post(url, data=payload, **kwargs)
        self._remember_token(response)
        if (
            self.auto_second_step
            and not kwargs  # a test posting to another origin or with its own headers steps alone
            and response.status_code == 302
            and urlsplit(response.headers["Location"]).path == "/login/code"
        ):
            self.get("/login/code")  # the page's form (a new CSRF token: the session is new)
            response = self.post("/login/code", {"code": self.totp_code()})
        elif (
            self.auto_second_step
            and not kwargs
            and response.status_code == 302
            and urlsplit(response.headers["Location"]).path == "/login/enrol"
        ):
            # A therapist made without an authenticator (bench data, an admin's new colleague)
            # sets one up with the secret the server just made; then the sign-in page sends the
            # now signed-in person home, like a finished sign-in.
            self.get("/login/enrol")
            enrolled = self.post("/login/enrol", {"code": self.totp_code()})
            assert enrolled.status_code == 200, enrolled.get_data(as_text=True)[:500]
            response = self.get("/login")
        return response

    def htmx(self, method: str, url: str, data: dict[str, Any] | None = None) -> TestResponse:
        headers = {"HX-Request": "true", "X-CSRFToken": self.ensure_token()}
        return self.client.open(url, method=method, data=data or {}, headers=headers)

    def login(self, sign_in: str, secret: str = "") -> TestResponse:
        from tests.factories import PASSWORD

        self.token = None
        if "@" in sign_in:
            self.get("/login")
            response = self.post("/login", {"email": sign_in, "password": secret or PASSWORD})
        else:
            self.get("/login/kids")
            response = self.post("/login/kids", {"username": sign_in, "secret": secret or PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        self.token = None
        self.get(response.headers["Location"], follow_redirects=True)
        return response

    def totp_code(self) -> str:
        """A fresh code from the authenticator of the therapist half signed in on this browser
        (tests/factories.py TOTP_SECRET)."""
        from sqlalchemy import select

        from portal import db
        from portal.models import AuthSession
        from portal.security import token_hash
        from tests.factories import fresh_totp_code

        with self.client.session_transaction() as cookie:
            token = cookie["sid"]
        with self.client.application.app_context():
            pending = db.session.scalars(
                select(AuthSession).where(AuthSession.token_hash == token_hash(token))
            ).one()
            code = fresh_totp_code(db.session, pending.user)
            db.session.commit()
        return code


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
    from flask import g

    with app.test_request_context():
        g.db_session = db_session
        yield db_session
        g.pop("db_session")  # leaving the context must not close the test's own session


@pytest.fixture(autouse=True)
def _fresh_sign_in_throttle(app: Flask) -> Iterator[None]:
    """Each test starts with no failed sign-ins counted against it (AU-03 counters are shared)."""
    from portal.extensions import limiter

    limiter.reset()
    yield
