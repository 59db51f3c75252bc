"""Issue 13, Spanish without English: every page each demo person reaches, read in Spanish, shows no
text that is an English message of the catalogue ("Father", "I accept, with a comment", "goal").

The demo clinic is loaded into the test's own transaction; each demo person signs in, asks for
Spanish, and follows every link of every page they reach (a few pages per route). Each text node
and each visible attribute is compared with the English msgids of messages.pot, whole and in its
parts ("— Mother / Father" has two parts); a Spanish sentence with a placeholder ("Usted es %(x)s
de %(y)s") is also checked for the value it carries. Ignored: messages that are the same in
Spanish, names, numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.demo import DEMO_PASSWORD, LEO_PIN, load_demo_clinic
from portal.models import Case, Child
from tests.support.browser import Browser
from tests.support.english import DOUBLED_STOP, _catalogue, _Page, english_left

SKIP = re.compile(r"/logout|/stream|/static/|/updates|/export|/calendar|\.(json|csv|zip|pdf|ics)$")
PER_ROUTE = 2
MAX_PAGES = 90


def _route(url: str) -> str:
    return re.sub(r"\d+", "N", urlsplit(url).path)


def _crawl(browser: Browser, start: str) -> Iterator[tuple[str, list[str]]]:
    seen: set[str] = set()
    per_route: dict[str, int] = {}
    queue = [start]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        route = _route(url)
        if url in seen or per_route.get(route, 0) >= PER_ROUTE:
            continue
        seen.add(url)
        per_route[route] = per_route.get(route, 0) + 1
        response = browser.get(url)
        if response.status_code in (302, 303):
            queue.insert(0, urlsplit(response.headers["Location"]).path)
            continue
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        page = _Page()
        page.feed(response.get_data(as_text=True))
        yield url, [*page.texts, *DOUBLED_STOP.findall(page.flat)]
        for link in page.links:
            parts = urlsplit(link)
            if parts.netloc or not parts.path.startswith("/") or SKIP.search(parts.path):
                continue
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))


@pytest.fixture()
def demo_clinic(app: Flask, db_session: Session) -> Session:
    """The demo clinic, in the test's own transaction (rolled back afterwards)."""
    from flask import g

    with app.test_request_context():
        g.db_session = db_session
        load_demo_clinic()
        db_session.commit()
        g.pop("db_session")
    return db_session


def _spanish_browser(app: Flask) -> Browser:
    browser = Browser(app.test_client())
    browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-MX,es;q=0.9"
    return browser


DEMO_PEOPLE = [
    ("rivera@demo.rapport.test", DEMO_PASSWORD),
    ("chen@demo.rapport.test", DEMO_PASSWORD),
    ("ana@demo.rapport.test", DEMO_PASSWORD),
    ("ben@demo.rapport.test", DEMO_PASSWORD),
    ("carla@demo.rapport.test", DEMO_PASSWORD),
    ("david@demo.rapport.test", DEMO_PASSWORD),
    ("erin@demo.rapport.test", DEMO_PASSWORD),
    ("leo", LEO_PIN),
    ("sam", DEMO_PASSWORD),
    ("maya (child mode)", ""),
]


def test_every_page_a_demo_person_reaches_in_spanish_shows_no_english(
    app: Flask, demo_clinic: Session
) -> None:
    msgids, carrying = _catalogue()
    assert {"father", "i accept, with a comment", "dad's house"} <= msgids  # the check can find
    maya = demo_clinic.scalars(select(Case.id).join(Child).where(Child.first_name == "Maya")).one()
    problems: list[str] = []
    pages = 0
    for person, secret in DEMO_PEOPLE:
        browser = _spanish_browser(app)
        if person.startswith("maya"):
            browser.login("ana@demo.rapport.test", DEMO_PASSWORD)
            browser.get(f"/family/{maya}")
            assert browser.post(f"/family/{maya}/child-mode").status_code == 303
            start = "/me"
        else:
            start = urlsplit(browser.login(person, secret).headers["Location"]).path
        for url, texts in _crawl(browser, start):
            pages += 1
            found = english_left(texts, msgids, carrying)
            problems += [f"{person} {url}: {line}" for line in found]
    assert pages > 100  # every person reached their pages
    assert problems == [], "English on Spanish pages:\n" + "\n".join(sorted(set(problems)))


def test_the_check_finds_english_whole_in_parts_and_inside_a_spanish_sentence() -> None:
    msgids, carrying = _catalogue()
    found = english_left(
        [
            "I accept, with a comment",
            "— Mother / Father",
            "Usted es father de Leo (Casa de papá).",
            "Leo — Madre",
            "Horario: lunes a viernes, 9:00 a.m.–5:00 p.m..",
        ],
        msgids,
        carrying,
    )
    assert len(found) == 5 and not any("Madre" in line for line in found)
    assert english_left(["Acepto, con un comentario", "12", "Leo Martin"], msgids, carrying) == []
    page = _Page()
    page.feed("<p>Próxima sesión: <strong>mié, 9 de diciembre, 5:00 p.m.</strong>.</p>")
    assert DOUBLED_STOP.findall(page.flat)  # a full stop after the tag that holds the time
