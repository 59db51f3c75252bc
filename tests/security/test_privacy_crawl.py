"""No existence oracle (AZ-13) and no third party (CO-03).

AZ-13: asking for another family's object and for one that does not exist look the same: same
status, same body length, and a median time difference under 20 ms over 30 tries each.
CO-03: crawling everything a guardian and a child can reach finds no third-party origin in any
script, image, style, frame or form, a CSP that only allows 'self', and no cookie but the session.
"""

from __future__ import annotations

import re
import statistics
import time
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from portal.models import ThreadKind
from tests.support.browser import Browser
from tests.support.rows import PIN, World
from tests.support.session import services_on

MISSING = 987_654


def timed(browser: Browser, url: str) -> tuple[int, int, float]:
    started = time.perf_counter()
    response = browser.get(url)
    elapsed = time.perf_counter() - started
    return response.status_code, len(response.get_data()), elapsed


@pytest.mark.parametrize(
    "template",
    [
        "/family/{case}",
        "/family/{case}/data/export.json",
        "/family/{case}/data/print",
        "/family/{case}/plan",
        "/cases/{case}/messages",
        "/messages/{thread}",
    ],
)
def test_AZ13_forbidden_and_missing_are_indistinguishable(
    app: Flask, db_session: Session, world: World, browser: Browser, template: str
) -> None:
    from portal.messages import services as messaging

    with services_on(app, db_session):
        other_thread = messaging.do_open_thread(world.t2, world.case2, ThreadKind.FAMILY)
    browser.login("g1@family.test")
    forbidden = template.format(case=world.case2.id, thread=other_thread.id)
    missing = template.format(case=MISSING, thread=MISSING)
    for url in (forbidden, missing):  # warm up
        browser.get(url)
    forbidden_times, missing_times = [], []
    for _ in range(30):
        status_f, length_f, seconds_f = timed(browser, forbidden)
        status_m, length_m, seconds_m = timed(browser, missing)
        assert status_f == status_m == 404
        assert length_f == length_m
        forbidden_times.append(seconds_f)
        missing_times.append(seconds_m)
    difference = abs(statistics.median(forbidden_times) - statistics.median(missing_times))
    print(f"AZ-13 {template}: median difference {difference * 1000:.2f} ms")
    assert difference < 0.020


class Resources(HTMLParser):
    """Every URL a page loads or sends to, and the same-origin links to crawl on."""

    LOADED = {
        "script": "src",
        "img": "src",
        "iframe": "src",
        "source": "src",
        "audio": "src",
        "video": "src",
        "embed": "src",
        "object": "data",
        "form": "action",
    }

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in self.LOADED and attributes.get(self.LOADED[tag]):
            self.loaded.append(str(attributes[self.LOADED[tag]]))
        if tag == "link" and attributes.get("href"):
            self.loaded.append(str(attributes["href"]))
        if tag == "a" and attributes.get("href"):
            self.links.append(str(attributes["href"]))
        for name, value in attributes.items():
            if value and (name.endswith("hx-get") or name == "style") and "url(" in value:
                self.loaded.append(value)


def crawl(
    browser: Browser, start: str, limit: int = 60, bodies: dict[str, tuple[str, str]] | None = None
) -> dict[str, list[str]]:
    """Follow same-origin links from `start`; per page, what it loads. `bodies` collects each
    HTML page's body and Cache-Control header."""
    seen: dict[str, list[str]] = {}
    queue = [start]
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        response = browser.get(url, follow_redirects=True)
        policy = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy, url
        for cookie in response.headers.getlist("Set-Cookie"):
            assert cookie.split("=", 1)[0] in ("rapport_session", "session"), cookie
        if response.mimetype != "text/html":
            seen[url] = []
            continue
        parser = Resources()
        body = response.get_data(as_text=True)
        if bodies is not None:
            bodies[url] = (body, response.headers.get("Cache-Control", ""))
        parser.feed(body)
        seen[url] = parser.loaded
        for link in parser.links:
            target = urljoin("http://localhost" + url, link)
            parts = urlsplit(target)
            if parts.netloc != "localhost" or "logout" in parts.path or "download" in link:
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path not in seen:
                queue.append(path)
    return seen


def third_party(urls: list[str]) -> list[str]:
    found = []
    for url in urls:
        parts = urlsplit(url)
        elsewhere = parts.scheme in ("http", "https") and parts.netloc not in ("localhost", "")
        if elsewhere or url.startswith("//") or "url(http" in url:
            found.append(url)
    return found


GUARDIAN = ("g1@family.test", None, "/family")
CHILD = ("cody1", PIN, "/me")
THERAPIST = ("t1@clinic.test", None, "/caseload")


def crawl_as(
    app: Flask,
    db_session: Session,
    world: World,
    browser: Browser,
    person: tuple[str, str | None, str],
    bodies: dict[str, tuple[str, str]] | None = None,
) -> dict[str, list[str]]:
    """Case1 with a plan; sign in as `person` and crawl from their home page."""
    from tests.support.builders import family_plan

    who, secret, start = person
    family_plan(app, db_session, world)
    browser.login(who, secret or "")
    pages = crawl(browser, start, bodies=bodies)
    assert len(pages) >= 5, sorted(pages)
    return pages


@pytest.mark.parametrize("person", [GUARDIAN, CHILD], ids=["guardian", "child"])
def test_CO03_child_and_guardian_pages_load_no_third_party_origin(
    app: Flask,
    db_session: Session,
    world: World,
    browser: Browser,
    person: tuple[str, str | None, str],
) -> None:
    pages = crawl_as(app, db_session, world, browser, person)
    offenders = {url: third_party(loaded) for url, loaded in pages.items() if third_party(loaded)}
    assert not offenders, offenders


@pytest.mark.parametrize(
    "person", [GUARDIAN, CHILD, THERAPIST], ids=["guardian", "child", "therapist"]
)
def test_HD02_HD03_every_reachable_page_is_no_store_with_no_inline_script(
    app: Flask,
    db_session: Session,
    world: World,
    browser: Browser,
    person: tuple[str, str | None, str],
) -> None:
    bodies: dict[str, tuple[str, str]] = {}
    crawl_as(app, db_session, world, browser, person, bodies)
    for url, (body, cache_control) in bodies.items():
        assert "no-store" in cache_control, url
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), url
        assert not re.search(r"\son[a-z]+\s*=", body), url
        assert "hx-on" not in body, url


def test_CO03_the_detector_sees_a_third_party_origin() -> None:
    parser = Resources()
    parser.feed(
        '<script src="https://cdn.example.com/a.js"></script><img src="//t.example/p.gif">'
        '<link rel="stylesheet" href="/static/css/rapport.css"><form action="/login"></form>'
    )
    assert third_party(parser.loaded) == ["https://cdn.example.com/a.js", "//t.example/p.gif"]
