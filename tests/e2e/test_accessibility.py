"""The accessibility sweep (issue 8): axe-core on every page each kind of person can reach, in
English and in Spanish, with zero violations allowed.

Each person signs in with the journeys' own helpers, then the sweep follows every link on every
page it reaches (one page per route: /cases/3/plan and /cases/4/plan are the same template) and
runs axe on each, with every <details> opened. The htmx states (a reordered list, a sent cheer, a
message arriving in an open thread) and the error states of the main forms are checked after the
swap. A failure lists page, rule id and the elements.

English is swept on a phone (390x844), where every control must also be a fingertip (44px) and
nothing may scroll sideways; Spanish on a laptop (1280x800), so both widths meet axe.

Spanish: the person signs in, then the browser asks for Spanish (Accept-Language: es) on every
page after, as a Spanish-speaking parent's phone would.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from portal.demo import DEMO_PASSWORD, LEO_PIN
from tests.e2e.axe import axe_violations
from tests.e2e.conftest import (
    _SMALL_TARGETS_JS,
    ANA,
    DESKTOP,
    PHONE,
    RIVERA,
    LiveServer,
    _sideways_overflow,
    kids_sign_in,
    sign_in,
)

CHEN = "chen@demo.rapport.test"
CARLA = "carla@demo.rapport.test"
MAX_PAGES = 120  # per person: a safety net, far above the routes anyone can reach today
PER_ROUTE = 3  # pages per route: one route shows a young child's case, an 8-12's and a teen's
# Links the sweep never follows: signing out, live streams, static files, downloads (not pages).
_SKIP = re.compile(r"/logout|/stream|/static/|/updates|/export|\.(json|csv|zip|pdf)$")


def _route_of(url: str) -> str:
    """/cases/12/plan?v=3 -> /cases/N/plan?v: one page per route and query shape."""
    parts = urlsplit(url)
    keys = sorted({pair.split("=")[0] for pair in parts.query.split("&") if pair})
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


def _open_maya(page: Page) -> None:
    sign_in(page, ANA)
    page.get_by_role("button", name="Open Maya's screen").click()
    expect(page.get_by_role("heading", name="Hi Maya!")).to_be_visible()


def _nobody(page: Page) -> None:
    page.goto("/login")


PEOPLE: dict[str, Callable[[Page], None]] = {
    "signed-out": _nobody,
    "admin-rivera": lambda page: sign_in(page, RIVERA),
    "therapist-chen": lambda page: sign_in(page, CHEN),
    "guardian-ana": lambda page: sign_in(page, ANA),
    "guardian-carla": lambda page: sign_in(page, CARLA),
    "child-leo": lambda page: kids_sign_in(page, "leo", LEO_PIN),
    "teen-sam": lambda page: kids_sign_in(page, "sam", DEMO_PASSWORD),
    "young-maya": _open_maya,
}


@pytest.fixture()
def context_for(new_page: Callable[..., Page]) -> Callable[[str], Page]:
    """A person's device in a language: English on a phone, Spanish on a laptop."""

    def make(language: str) -> Page:
        # Signing in happens in English (the journeys' helpers find fields by their English
        # names); `speak` then makes every request ask for the language (Accept-Language).
        english = {"Accept-Language": "en"}
        if language == "es":
            return new_page(viewport=DESKTOP, extra_http_headers=english)
        return new_page(viewport=PHONE, extra_http_headers=english)

    return make


def speak(page: Page, language: str) -> None:
    """From now on every request asks for this language (signing in happened in English)."""
    page.context.set_extra_http_headers({"Accept-Language": f"{language},en;q=0.5"})


def sweep(page: Page, who: str, live_url: str, language: str) -> tuple[list[str], list[str]]:
    """Visit every route reachable by links from the page the person is on (up to PER_ROUTE
    pages of each), and a page that does not exist; axe each one."""
    per_route: dict[str, int] = {}
    queue = [page.url, f"{live_url}/no-such-page"]
    queued = set(queue)
    visited: list[str] = []
    problems: list[str] = []
    while queue and len(visited) < MAX_PAGES:
        url = queue.pop(0)
        route = _route_of(url)
        if per_route.get(route, 0) >= PER_ROUTE:
            continue
        per_route[route] = per_route.get(route, 0) + 1
        response = page.goto(url)
        status = response.status if response else 0
        if status >= 500:
            problems.append(f"{who} {route}: answered {status}")
            continue
        visited.append(urlsplit(page.url).path)
        label = f"{who} {urlsplit(page.url).path}"
        lang = page.get_attribute("html", "lang")
        if lang != language:
            problems.append(f"{label}: <html lang={lang!r}> on a page asked for in {language!r}")
        problems += axe_violations(page, label)
        if page.viewport_size == PHONE:
            problems += [
                f"{label}: small touch target {t}" for t in page.evaluate(_SMALL_TARGETS_JS)
            ]
            if (overflow := _sideways_overflow(page)) > 0:
                problems.append(f"{label}: scrolls sideways by {overflow}px on a phone")
        links: list[str] = page.eval_on_selector_all(
            "a[href]", "els => els.map(a => a.href.split('#')[0])"
        )
        for link in links:
            if link.startswith(live_url) and not _SKIP.search(link) and link not in queued:
                queued.add(link)
                queue.append(link)
    return visited, problems


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("who", list(PEOPLE))
def test_every_page_has_no_axe_violations(
    who: str, language: str, context_for: Callable[[str], Page], live_server: LiveServer
) -> None:
    page = context_for(language)
    PEOPLE[who](page)
    speak(page, language)
    page.reload()
    visited, problems = sweep(page, f"[{language}] {who}", live_server.url, language)
    print(f"a11y sweep [{language}] {who}: {len(visited)} pages: {' '.join(sorted(visited))}")
    assert len(visited) >= 3, visited  # the sweep really walked the person's pages
    assert problems == [], "\n" + "\n".join(problems)


@pytest.mark.parametrize("language", ["en", "es"])
def test_htmx_states_are_read_out_keep_focus_and_pass_axe(
    language: str, context_for: Callable[[str], Page]
) -> None:
    """A cheer sent in place, a ladder step moved in place, a message arriving in an open thread."""
    rivera = context_for(language)
    sign_in(rivera, RIVERA)
    speak(rivera, language)
    announcer = rivera.locator("#announcer")

    rivera.goto("/cases/1/progress")
    entry = rivera.locator("#practice-log .practice-entry").first
    entry.locator("summary").first.click()
    entry.locator("textarea, input[type=text]").first.fill("You were so brave at the gate!")
    entry.locator("button[type=submit]").last.click()
    expect(announcer).not_to_be_empty()
    confirmation = rivera.locator("#practice-log [data-announce]")
    expect(confirmation).to_be_focused()  # not dropped on <body> when the list was replaced
    assert_no_violations(rivera, f"[{language}] htmx: cheer sent")

    rivera.goto("/ladders/1")
    before = announcer.inner_text()
    first_down = rivera.locator("#step-list form:has(input[value=down]) button").first
    first_down.focus()
    rivera.keyboard.press("Enter")
    expect(announcer).not_to_have_text(before)
    expect(rivera.locator("#step-list button[autofocus]")).to_be_focused()
    assert_no_violations(rivera, f"[{language}] htmx: ladder step moved")
    rivera.keyboard.press("Shift+Tab")  # the same step's "move up" puts it back
    rivera.keyboard.press("Enter")
    expect(rivera.locator("#step-list button[autofocus]")).to_be_focused()

    # Ana has Maya's family thread open and is typing; Dr. Rivera's answer arrives and is read
    # out, while Ana's cursor and her draft stay where they were.
    ana = context_for(language)
    sign_in(ana, ANA)
    speak(ana, language)
    thread = _family_thread_url(ana)
    draft = ana.locator("textarea[name=body]")
    draft.fill("Half a sentence")
    rivera.goto(thread)
    answer = f"See you on Thursday ({language})"
    rivera.locator("textarea[name=body]").fill(answer)
    rivera.locator("button[data-send]").click()
    expect(ana.locator("#announcer")).to_contain_text(answer, timeout=8_000)
    expect(draft).to_be_focused()
    expect(draft).to_have_value("Half a sentence")
    assert_no_violations(ana, f"[{language}] htmx: message arrived")


def _family_thread_url(page: Page) -> str:
    page.goto("/cases/1/messages")
    page.locator("main a[href^='/messages/']").first.click()
    page.locator("textarea[name=body]").focus()
    return page.url


@pytest.mark.parametrize("language", ["en", "es"])
def test_error_states_pass_axe(language: str, context_for: Callable[[str], Page]) -> None:
    """Each main form sent wrong: the error is shown, takes focus, and breaks no axe rule."""
    page = context_for(language)
    speak(page, language)
    page.goto("/login")
    page.locator("input[name=email]").fill("nobody@example.test")
    page.locator("input[name=password]").fill("not a password")
    page.locator("input[name=password]").press("Enter")
    expect(page.locator(".error-summary")).to_be_focused()
    assert_no_violations(page, f"[{language}] error: sign in")

    page.goto("/login/kids")
    page.locator("input[name=username]").fill("nobody")
    page.locator("input[name=secret], input[type=password]").first.fill("0000")
    page.locator("main button[type=submit]").click()
    expect(page.locator(".error-summary, .error").first).to_be_visible()
    assert_no_violations(page, f"[{language}] error: kids sign in")

    leo = context_for(language)
    kids_sign_in(leo, "leo", LEO_PIN)
    speak(leo, language)
    leo.goto("/me/ladder")
    leo.locator("a.rung-go").first.click()
    leo.locator("input[name=duration_minutes]").fill("700")
    leo.locator("form.practice-form button[type=submit]").click()
    expect(leo.locator(".error-summary")).to_be_focused()
    assert_no_violations(leo, f"[{language}] error: Leo's practice")

    maya = context_for(language)
    _open_maya(maya)
    speak(maya, language)
    maya.goto("/me/ladder")
    maya.locator("a.rung-go").first.click()
    maya.locator("button.face-button").first.click()  # before
    maya.locator("button.flow-next").click()  # "I had my go"
    maya.locator("button.face-button").first.click()  # the worst moment
    maya.locator("details.grown-ups summary").click()
    maya.locator("input[name=duration_minutes]").fill("700")  # a grown-up's slip
    maya.locator("button[value=full]").click()
    expect(maya.locator(".error-summary")).to_be_focused()
    assert_no_violations(maya, f"[{language}] error: Maya's practice")

    ana = context_for(language)
    sign_in(ana, ANA)
    speak(ana, language)
    _family_thread_url(ana)
    ana.locator("button[data-send]").click()
    expect(ana.locator(".error-summary")).to_be_visible()
    assert_no_violations(ana, f"[{language}] error: empty message")


def assert_no_violations(page: Page, label: str) -> None:
    problems = axe_violations(page, label)
    assert problems == [], "\n" + "\n".join(problems)
