"""A test client that behaves like a person's browser, and the sign-ins of the test people."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal import db
from portal.models import AuthSession
from portal.security import token_hash
from tests.support.rows import PASSWORD
from tests.support.totp import fresh_authenticator_code

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
        (tests/support/totp.py TOTP_SECRET)."""

        with self.client.session_transaction() as cookie:
            token = cookie["sid"]
        with self.client.application.app_context():
            pending = db.session.scalars(
                select(AuthSession).where(AuthSession.token_hash == token_hash(token))
            ).one()
            code = fresh_authenticator_code(db.session, pending.user)
            db.session.commit()
        return code
