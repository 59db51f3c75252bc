"""Browser journeys: a live Rapport with the demo clinic, driven by Debian's Chromium.

The live server is its own app with its own SQLite file (never the shared test database of
tests/conftest.py), migrated with Alembic and loaded with the Willow Street demo clinic. It runs in
a daemon thread for the whole session. Without /usr/bin/chromium every browser test is skipped
with a notice; `playwright install` is never needed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

from portal import db
from portal.demo import DEMO_PASSWORD
from portal.models import OutboxEmail
from tests.e2e.axe import assert_accessible
from tests.support.demo import demo_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = "Chromium not found at /usr/bin/chromium: browser journeys skipped"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
E2E_DIR = Path(__file__).resolve().parent
SCREENSHOTS = E2E_DIR.parents[1] / "test-artifacts" / "screenshots"
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=800)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in tests/e2e is a browser test, skipped with a notice when Chromium is absent."""
    for item in items:
        if E2E_DIR not in item.path.parents:
            continue
        item.add_marker(pytest.mark.browser)
        if not CHROMIUM.exists():
            item.add_marker(pytest.mark.skip(reason=CHROMIUM_MISSING))


@dataclass
class LiveServer:
    app: Flask
    url: str
    static_hits: list[str]  # every /static/ path (and query) that reached the server

    def outbox_bodies(self, to: str) -> list[str]:
        """The mail queued for one address, newest first, as the mail server would send it."""
        with self.app.app_context():
            bodies = db.session.scalars(
                select(OutboxEmail.body)
                .where(OutboxEmail.to_address == to)
                .order_by(OutboxEmail.id.desc())
            ).all()
        return list(bodies)

    def link_in_mail_to(self, to: str) -> str:
        bodies = self.outbox_bodies(to)
        assert bodies, f"no mail was queued for {to}"
        match = re.search(r"https?://\S+", bodies[0])
        assert match, bodies[0]
        return match.group(0)


# The live server's app, for the sign-in helper's authenticator (set by the live_server fixture).
_LIVE: list[Flask] = []


def live_totp_code(email: str) -> str | None:
    """A fresh authenticator code for a therapist of the live server (None for anybody else):
    the demo therapists' secret is RAPPORTDEMOTOTP2 (README)."""
    from portal.models import User
    from tests.support.totp import fresh_authenticator_code

    with _LIVE[-1].app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one_or_none()
        if user is None or not user.needs_second_factor:
            return None
        code = fresh_authenticator_code(db.session, user)
        db.session.commit()
    return code


def _closes_its_responses(app: Flask, static_hits: list[str]) -> WSGIApplication:
    """The app, with each response closed by the app's own side of the exchange.

    Werkzeug's development server closes a response only after it has drained the socket, and
    that drain raises when the browser has already reset the connection (a page navigates away
    while a picture or the favicon is still coming). The open static file was then left to the
    garbage collector, and pytest turns the ResourceWarning into a failure of whichever test was
    running. Here the response is closed in a generator's finally: when it has been sent in full,
    or when the abandoned generator is collected. Production runs gunicorn, which closes it."""

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        if environ.get("PATH_INFO", "").startswith("/static/"):
            query = environ.get("QUERY_STRING")
            static_hits.append(environ["PATH_INFO"] + (f"?{query}" if query else ""))
        response = app(environ, start_response)

        def chunks() -> Iterator[bytes]:
            try:
                yield from response
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()

        return chunks()

    return serve


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    app = demo_app(tmp_path_factory.mktemp("e2e") / "e2e.db")
    static_hits: list[str] = []
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, _closes_its_responses(app, static_hits), threaded=True
    )
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PORTAL_BASE_URL"] = url  # invitation links point at this server
    _LIVE.append(app)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=url, static_hits=static_hits)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        app.extensions["rapport_db"].engine.dispose()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture()
def new_page(chromium: Browser, live_server: LiveServer) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh browser context: a separate person on a separate device (browser
    context options, e.g. locale or viewport, may be given)."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> Page:
        context = chromium.new_context(
            **{"base_url": live_server.url, "viewport": DESKTOP, **options}
        )
        context.set_default_timeout(5_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture()
def page(new_page: Callable[[], Page]) -> Page:
    return new_page()


# Controls a thumb must hit: buttons, fields, menu links, and the labels of check boxes and radios
# (the label is the target there). Links inside a sentence are exempt, as in WCAG 2.5.8.
_SMALL_TARGETS_JS = """
() => {
  const selector = 'button, select, label.check, .button, .brand, .nav-list a, .switcher a,'
    + ' input:not([type=hidden]):not([type=checkbox]):not([type=radio])';
  return [...document.querySelectorAll(selector)]
    .filter(el => el.offsetParent !== null && !el.closest('.visually-hidden'))
    .map(el => [el.getBoundingClientRect(), (el.innerText || el.name || el.id).trim()])
    .filter(([box]) => box.height < 44)
    .map(([box, name]) => `${name} (${Math.round(box.height)}px high)`);
}
"""
_DUPLICATE_IDS_JS = """
() => {
  const ids = [...document.querySelectorAll('[id]')].map(el => el.id);
  return [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
}
"""


def _sideways_overflow(page: Page) -> int:
    overflow: int = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return overflow


def shoot(page: Page, name: str) -> None:
    """Screenshot the page on a phone and on a laptop, and check what a phone user would trip on:
    sideways scrolling, controls smaller than a fingertip (44px), labels tied to the wrong field;
    and run axe-core on the page as the journey left it (zero violations, issue 8)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size or DESKTOP
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        page.screenshot(
            path=str(SCREENSHOTS / f"{name}-{size['width']}x{size['height']}.png"), full_page=True
        )
        overflow = _sideways_overflow(page)
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {size['width']}px"
        if size is PHONE:
            assert page.evaluate(_SMALL_TARGETS_JS) == [], f"{name}: small touch targets"
    assert page.evaluate(_DUPLICATE_IDS_JS) == [], f"{name}: two elements share an id"
    page.set_viewport_size(before)
    assert_accessible(page, name)


# --- Signing the demo people in, in the browser --------------------------------------------------

RIVERA = "rivera@demo.rapport.test"
ANA = "ana@demo.rapport.test"


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if code := live_totp_code(email):  # therapists: the second step (AU-08)
        page.wait_for_url("**/login/code")
        page.get_by_label("6-digit code").fill(code)
        page.get_by_role("button", name="Sign in").click()


def kids_sign_in(page: Page, username: str, secret: str) -> None:
    page.goto("/login/kids")
    page.get_by_label("Username").fill(username)
    page.get_by_label("PIN or password").fill(secret)
    page.get_by_role("button", name="Let's go").click()
