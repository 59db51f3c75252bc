"""Issue 13: the accessibility statement, linked from every footer in both languages, and a site
icon so that no page asks for a /favicon.ico that is missing."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.browser import Browser
from tests.support.rows import World


def test_the_accessibility_statement_is_in_every_footer_in_both_languages(
    new_browser: Callable[[], Browser], world: World
) -> None:
    signed_out = new_browser().get("/login").get_data(as_text=True)
    assert 'href="/accessibility"' in signed_out
    guardian = new_browser()
    guardian.login("g1@family.test")
    for url in (f"/family/{world.case1.id}", "/no-such-page"):
        page = guardian.get(url).get_data(as_text=True)
        assert 'href="/accessibility"' in page, url
    english = guardian.get("/accessibility").get_data(as_text=True)
    for part in ("What Rapport does", "What is known not to work well", "How to ask for help"):
        assert part in english
    reader = new_browser()
    reader.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    spanish = reader.get("/accessibility")
    assert spanish.status_code == 200  # signed out too
    text = spanish.get_data(as_text=True)
    assert "Cómo pedir ayuda" in text and "How to ask for help" not in text


def test_every_page_names_an_icon_and_the_browsers_own_request_finds_it(browser: Browser) -> None:
    page = browser.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg?v=' in page
    static = browser.get("/static/favicon.svg")
    static.close()
    assert static.status_code == 200
    icon = browser.get("/favicon.ico")
    icon.close()
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
