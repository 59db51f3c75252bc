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
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.demo import DEMO_PASSWORD, LEO_PIN, load_demo_clinic
from portal.models import Case, Child
from tests.support.browser import Browser

ROOT = Path(__file__).resolve().parents[1]
POT = ROOT / "portal" / "translations" / "messages.pot"
SPANISH_PO = ROOT / "portal" / "translations" / "es" / "LC_MESSAGES" / "messages.po"
VISIBLE_ATTRIBUTES = {"aria-label", "placeholder", "title", "alt", "aria-valuetext"}
# Separators between the parts of one line of text ("Leo — goal:", "— Mother / Father").
PARTS = re.compile(r"\s*(?:—|–|/|·|:|\(|\)|,|;|\|)\s*")
SKIP = re.compile(r"/logout|/stream|/static/|/updates|/export|/calendar|\.(json|csv|zip|pdf|ics)$")
DOUBLED_STOP = re.compile(r"[ap]\.\s?m\.\s*\.")
# Text people wrote (messages) stays as written, in the writer's language.
TYPED_BY_PEOPLE = {"message-body", "thread-preview", "typed"}
PER_ROUTE = 2
MAX_PAGES = 90


def _catalogue() -> tuple[set[str], list[re.Pattern[str]]]:
    """The English msgids a Spanish page must not show, and the Spanish sentences that carry a
    value (as patterns that capture it)."""
    with POT.open("rb") as pot:
        english = {
            str(part)
            for m in read_po(pot)
            if m.id
            for part in ([m.id] if isinstance(m.id, str) else m.id)
        }
    with SPANISH_PO.open("rb") as po:
        spanish = {m.id: m.string for m in read_po(po, locale="es") if m.id}
    # Words spelled alike in both languages ("Video", "No") are never a sign of English.
    same = {_bare(value) for value in spanish.values() if isinstance(value, str)}
    msgids = {
        _bare(text)
        for text in english
        if "%(" not in text and "<" not in text and re.search(r"[A-Za-z]{2}", text)
        if _bare(text) not in same and text not in {"Rapport", "English", "Español"}
    }
    carrying = []
    for value in spanish.values():
        for sentence in [value] if isinstance(value, str) else value:
            if "%(" in sentence and "<" not in sentence:
                pieces = re.split(r"%\(\w+\)[sd]", sentence)
                if len(max(pieces, key=len).strip()) >= 4:
                    carrying.append(
                        re.compile("^" + "(.+?)".join(map(re.escape, pieces)) + "$", re.S)
                    )
    return msgids, carrying


def _bare(text: str) -> str:
    return " ".join(text.split()).strip(" .!?¿¡:·—“”\"'").lower()


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._skip = 0
        self._typed: list[str] = []  # the tag names opened inside text people wrote
        self.flat = ""  # the page's text as one line, across tags ("p.m.</strong>.")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        values = dict(attrs)
        classes = set((values.get("class") or "").split())
        opens_typed = not self._typed and classes & TYPED_BY_PEOPLE
        if opens_typed or (self._typed and tag == self._typed[0]):
            self._typed.append(tag)
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        for name, value in attrs:
            shown = name in VISIBLE_ATTRIBUTES or (
                tag == "input" and name == "value" and values.get("type") in ("submit", "button")
            )
            if shown and value:
                self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        if self._typed and tag == self._typed[0]:
            self._typed.pop()

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if not self._skip and not self._typed and text:
            self.texts.append(text)
            self.flat += data


def english_left(texts: list[str], msgids: set[str], carrying: list[re.Pattern[str]]) -> list[str]:
    """The texts (or the parts of them) that are an English message of the catalogue, and times
    whose own full stop doubles the sentence's ("5:00 p.m..")."""
    found = []
    for text in texts:
        if DOUBLED_STOP.search(text):
            found.append(f"doubled full stop in {text!r}")
        candidates = {text, *PARTS.split(text)}
        for pattern in carrying:
            if match := pattern.match(text):
                candidates.update(group.strip() for group in match.groups())
        for candidate in candidates:
            if _bare(candidate) in msgids:
                found.append(f"{candidate!r} in {text!r}")
    return found


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
