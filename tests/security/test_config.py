"""Production configuration (SECURITY SE-07, SE-08, CF-01, CF-04).

Production apps are built with `make_app(production=True)`: PORTAL_ENV=production, a 64-character
random secret and the test database. Their test client speaks https, as Flask takes the scheme
from PREFERRED_URL_SCHEME.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from importlib.metadata import version
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from portal import create_app
from portal.config import KNOWN_DEV_SECRETS, ConfigError
from portal.extensions import database
from tests.support.browser import Browser
from tests.support.rows import PASSWORD, PIN, World

STRONG_SECRET = "9f" * 32  # 64 hex characters, as `secrets.token_hex(32)` prints


def cookie_attributes(set_cookie: str) -> tuple[str, dict[str, str | None]]:
    name_value, *parts = [part.strip() for part in set_cookie.split(";")]
    attributes: dict[str, str | None] = {}
    for part in parts:
        key, sep, value = part.partition("=")
        attributes[key.lower()] = value if sep else None
    return name_value.partition("=")[0], attributes


def session_set_cookies(responses: list[TestResponse]) -> list[str]:
    return [
        header
        for response in responses
        for header in response.headers.getlist("Set-Cookie")
        if header.startswith("__Host-session=")
    ]


# SE-07 -------------------------------------------------------------------------------------------


def test_SE07_the_production_session_cookie_is_host_only_secure_httponly_lax(
    make_app: Any, world: World
) -> None:
    production: Flask = make_app(production=True)
    browser = Browser(production.test_client())
    login_page = browser.get("/login")
    assert login_page.request.scheme == "https"
    signed_in = browser.post("/login", {"email": "t1@clinic.test", "password": PASSWORD})
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/caseload"

    all_cookies = [
        header
        for response in (login_page, signed_in)
        for header in response.headers.getlist("Set-Cookie")
    ]
    assert all(header.startswith("__Host-session=") for header in all_cookies), all_cookies
    headers = session_set_cookies([login_page, signed_in])
    assert headers, "no session cookie was set"
    for header in headers:
        name, attributes = cookie_attributes(header)
        assert name == "__Host-session"
        assert "secure" in attributes and "httponly" in attributes
        assert (attributes.get("samesite") or "").lower() in {"lax", "strict"}
        assert attributes.get("path") == "/"
        assert "domain" not in attributes
    _, signed_in_cookie = cookie_attributes(session_set_cookies([signed_in])[-1])
    expires = parsedate_to_datetime(signed_in_cookie["expires"] or "")
    assert expires - datetime.now(UTC) <= timedelta(hours=12, minutes=1)
    # And the cookie carries the sign-in: the next https request is signed in.
    assert browser.client.get("/account/password").status_code == 200


def test_SE07_no_remember_me_cookie_is_ever_set(make_app: Any, world: World) -> None:
    production: Flask = make_app(production=True)
    browser = Browser(production.test_client())
    browser.get("/login")
    response = browser.post(
        "/login", {"email": "t1@clinic.test", "password": PASSWORD, "remember": "y"}
    )
    assert response.status_code == 302
    assert not any(
        "remember" in header.lower() for header in response.headers.getlist("Set-Cookie")
    )


def test_SE07_production_keeps_secure_cookies_whatever_the_config_says(make_app: Any) -> None:
    weakened: Flask = make_app(
        {
            "SESSION_COOKIE_SECURE": False,
            "SESSION_COOKIE_SAMESITE": None,
            "SESSION_COOKIE_HTTPONLY": False,
            "SESSION_COOKIE_NAME": "session",
            "DEBUG": True,
        },
        production=True,
    )
    config = weakened.config
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert config["SESSION_COOKIE_DOMAIN"] in (None, False)
    assert weakened.debug is False


def test_SE07_limits_and_lifetimes_hold_in_production(make_app: Any) -> None:
    config = make_app(production=True).config
    assert config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert config["IDLE_TIMEOUT"].total_seconds() <= 30 * 60
    assert config["ABSOLUTE_SESSION_LIFETIME"].total_seconds() <= 12 * 3600
    assert config["PERMANENT_SESSION_LIFETIME"].total_seconds() <= 12 * 3600
    assert config["REMEMBER_COOKIE_DURATION"].total_seconds() == 0
    assert config.get("WTF_CSRF_ENABLED", True) is True
    assert config.get("WTF_CSRF_SSL_STRICT", True) is True
    assert config["PRINT_OUTBOX"] is False


def test_HD01_production_answers_carry_hsts(make_app: Any, world: World) -> None:
    production: Flask = make_app(production=True)
    browser = Browser(production.test_client())
    browser.login("g1@family.test")
    for response in (
        browser.client.get("/login"),
        browser.client.get(f"/family/{world.case1.id}"),
        browser.client.get("/no-such-page"),
    ):
        hsts = response.headers["Strict-Transport-Security"]
        assert "includeSubDomains" in hsts
        assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000  # type: ignore[union-attr]


# SE-08 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "",
        *sorted(KNOWN_DEV_SECRETS),
        "x" * 31,
        "short but not empty",
    ],
)
def test_SE08_production_refuses_to_start_without_a_real_secret(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, secret: str | None
) -> None:
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        make_app({"SECRET_KEY": secret}, production=True)


def test_SE08_production_from_the_environment_refuses_a_dev_secret(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "changeme")
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    with pytest.raises(ConfigError):
        create_app()
    monkeypatch.delenv("PORTAL_SECRET_KEY")
    with pytest.raises(ConfigError):
        create_app()


def test_SE08_production_starts_with_a_secret_from_the_environment(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    production = create_app()
    try:
        assert production.config["SECRET_KEY"] == STRONG_SECRET
        assert production.config["PORTAL_ENV"] == "production"
        assert production.debug is False and production.testing is False
    finally:
        database.for_app(production).engine.dispose()


def test_SE08_no_session_or_csrf_token_travels_in_a_url(new_browser: Any, world: World) -> None:
    pages = []
    for sign_in, secret, urls in (
        (None, "", ["/login", "/login/kids"]),
        ("t1@clinic.test", "", ["/caseload", f"/cases/{world.case1.id}", "/account/password"]),
        ("g1@family.test", "", [f"/family/{world.case1.id}"]),
        ("cody1", PIN, ["/me"]),
    ):
        browser: Browser = new_browser()
        if sign_in:
            browser.login(sign_in, secret)
        pages += [browser.get(url).get_data(as_text=True) for url in urls]
    links = [
        link
        for page in pages
        for link in re.findall(r'(?:href|action|src|data-hx-[a-z]+)="([^"]*)"', page)
    ]
    assert links
    for link in links:
        assert not re.search(r"(csrf|token|session|sid)=", link, re.IGNORECASE), link


# CF-01 -------------------------------------------------------------------------------------------


def test_CF01_production_has_no_debugger(make_app: Any) -> None:
    production: Flask = make_app(production=True)
    assert production.debug is False
    assert production.testing is False
    client = production.test_client()
    for path in ("/console", "/?__debugger__=yes&cmd=resource&f=style.css"):
        response = client.get(path)
        assert response.status_code in (302, 404)
        assert "Werkzeug" not in response.get_data(as_text=True)


# CF-04 -------------------------------------------------------------------------------------------


def as_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


@pytest.mark.parametrize(
    ("package", "floor"),
    [("werkzeug", "3.0.6"), ("flask", "3.1.0"), ("flask-wtf", "1.2.0"), ("sqlalchemy", "2.0.0")],
)
def test_CF04_dependencies_are_at_or_above_their_security_floor(package: str, floor: str) -> None:
    assert as_tuple(version(package)) >= as_tuple(floor)
