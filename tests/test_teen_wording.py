"""Issue 15: a teen is spoken to as a teen on every page he reaches, never told to "ask a
grown-up" (DESIGN §10). Sam (14) of the demo clinic signs in and follows every link of every page
he reaches, in English and in Spanish, asks for a reward, and mistypes a page address; no text he
can see or hear words him as a young child. Leo (10), on the same pages, still reads the child
wording: the check sees it when it is there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from flask import Flask
from sqlalchemy import select

from portal.db import get_session
from portal.demo import DEMO_PASSWORD, LEO_PIN
from portal.models.ladders import Reward
from tests.support.browser import Browser
from tests.support.demo import demo_app as build_demo_app

# A young child's wording: "ask a grown-up", "your grown-ups" / "pídele ayuda a un adulto".
CHILD_WORDING = {
    "en": re.compile(r"grown[- ]?ups?\b", re.IGNORECASE),
    "es": re.compile(r"\badultos?\b", re.IGNORECASE),
}
SKIP = re.compile(r"/logout|/stream|/static/|/updates|/export|/calendar|/print|\.(json|csv|ics)$")
VISIBLE_ATTRIBUTES = {"aria-label", "alt", "title", "placeholder", "aria-valuetext"}
MAX_PAGES = 60


class _Page(HTMLParser):
    """What a person sees or hears on a page, and where its links lead."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag in ("script", "style"):
            self._hidden += 1
        if tag == "a" and found.get("href", "").startswith("/"):
            self.links.append(found["href"].split("#")[0])
        self.text.extend(v for k, v in found.items() if k in VISIBLE_ATTRIBUTES)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


def _read(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = build_demo_app(tmp_path_factory.mktemp("teen-wording") / "demo.db")
    yield app
    with app.app_context():
        get_session().close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    yield from _demo(tmp_path_factory)


@pytest.fixture
def fresh_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A demo clinic of its own, for a test that changes it."""
    yield from _demo(tmp_path_factory)


def _signed_in(app: Flask, username: str, secret: str, language: str) -> Browser:
    person = Browser(app.test_client())
    person.login(username, secret)
    assert person.post("/language", {"language": language, "next": "/me"}).status_code in (302, 303)
    return person


def _child_wording_on_the_way(person: Browser, language: str, start: str = "/me") -> list[str]:
    """Every page reached from `start` (and a missing one): where child wording shows."""
    found: list[str] = []
    queue, seen, visited = [start, "/no-such-page"], {start, "/no-such-page"}, 0
    while queue and visited < MAX_PAGES:
        url = queue.pop(0)
        response = person.get(url, follow_redirects=True)
        if response.mimetype != "text/html":
            continue
        visited += 1
        page = _read(response.get_data(as_text=True))
        text = " ".join(" ".join(page.text).split())
        found += [f"{url}: …{m.group(0)}…" for m in CHILD_WORDING[language].finditer(text)]
        for link in page.links:
            if link not in seen and not SKIP.search(link):
                seen.add(link)
                queue.append(link)
    assert visited >= 8, f"the crawl reached only {visited} pages"
    return found


@pytest.mark.parametrize("language", ["en", "es"])
def test_sam_is_never_told_to_ask_a_grown_up(demo: Flask, language: str) -> None:
    sam = _signed_in(demo, "sam", DEMO_PASSWORD, language)
    assert _child_wording_on_the_way(sam, language) == []


@pytest.mark.parametrize("language", ["en", "es"])
def test_sam_asks_for_a_reward_as_a_teen(fresh_demo: Flask, language: str) -> None:
    sam = _signed_in(fresh_demo, "sam", DEMO_PASSWORD, language)
    # Asking for a reward he can afford: the message and the waiting reward.
    ladder = sam.get("/me/ladder").get_data(as_text=True)
    reward = re.search(r'action="(/me/rewards/\d+)"', ladder)
    assert reward, "Sam has no reward he can ask for"
    asked = sam.post(reward.group(1), {}, follow_redirects=True).get_data(as_text=True)
    said = " ".join(_read(asked).text)
    assert "Cinema trip" in said and not CHILD_WORDING[language].search(said), said[-800:]
    assert reward.group(1) not in asked  # asked: it waits for his parent now
    # A reward nobody approved yet (an old form): the refusal speaks to a teen too.
    with fresh_demo.app_context():
        unapproved = get_session().scalar(
            select(Reward.id).where(Reward.title == "Late night on Saturday")
        )
    refused = sam.post(f"/me/rewards/{unapproved}", {}, follow_redirects=True)
    text = " ".join(_read(refused.get_data(as_text=True)).text)
    assert "Cinema trip" in text and not CHILD_WORDING[language].search(text), text[-800:]


@pytest.mark.parametrize("language", ["en", "es"])
def test_sams_sign_in_page_and_mistake_speak_to_a_teen(demo: Flask, language: str) -> None:
    nobody = Browser(demo.test_client())
    headers = {"Accept-Language": language}
    nobody.get("/login/kids", headers=headers)
    wrong = nobody.post(
        "/login/kids", {"username": "sam", "secret": "not-my-password"}, headers=headers
    )
    assert wrong.status_code == 422
    text = " ".join(_read(wrong.get_data(as_text=True)).text)
    assert not CHILD_WORDING[language].search(text), text


@pytest.mark.parametrize("language", ["en", "es"])
def test_leo_still_reads_the_child_wording(demo: Flask, language: str) -> None:
    """The negative case: a 10-year-old is still told to ask a grown-up, so the check above
    would see child wording on Sam's pages."""
    leo = _signed_in(demo, "leo", LEO_PIN, language)
    page = " ".join(_read(leo.get("/me/ladder").get_data(as_text=True)).text)
    assert CHILD_WORDING[language].search(page)
