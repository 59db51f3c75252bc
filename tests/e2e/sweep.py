"""The accessibility sweep's parts, shared by its two test modules (tests/e2e/test_accessibility.py
and tests/e2e/test_accessibility_people.py): the people, their devices, and the walk over every
page a person can reach with axe-core on each. Two modules so that pytest-xdist can run the
longest sweeps on both workers at once (a module stays on one worker)."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from portal.demo import DEMO_PASSWORD, LEO_PIN
from tests.e2e.axe import AXE_RUN_JS, axe_source, described, with_axe
from tests.e2e.conftest import (
    _SMALL_TARGETS_JS,
    ANA,
    DESKTOP,
    PHONE,
    RIVERA,
    LiveServer,
    kids_sign_in,
    sign_in,
)

CHEN = "chen@demo.rapport.test"
CARLA = "carla@demo.rapport.test"
MAX_PAGES = 120  # per person: a safety net, far above the routes anyone can reach today
PER_ROUTE = 3  # pages per route: one route shows a young child's case, an 8-12's and a teen's
# Links the sweep never follows: signing out, live streams, static files, downloads (not pages).
_SKIP = re.compile(r"/logout|/stream|/static/|/updates|/export|\.(json|csv|zip|pdf|ics)$")


# Everything the sweep reads off a page, in one evaluation: each call into the browser costs a
# round trip, and the first one using a Playwright selector injects Playwright's own script into the
# new page (~30 ms). axe first (which opens every <details>; null while the page has no axe, see
# `with_axe`), then the language, on a phone the touch targets and sideways scrolling with
# everything open, as the checks have always run, and the links to follow.
_PAGE_FACTS_JS = f"""
async (phone) => {{
  const violations = await ({AXE_RUN_JS})();
  if (violations === null) return null;  // no axe in the page yet
  const lang = document.documentElement.getAttribute('lang');
  const small = phone ? ({_SMALL_TARGETS_JS})() : [];
  const root = document.documentElement;
  const overflow = phone ? root.scrollWidth - root.clientWidth : 0;
  const links = [...document.querySelectorAll('a[href]')].map(a => a.href.split('#')[0]);
  return {{lang, violations, small, overflow, links}};
}}
"""


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


def device_for(new_page: Callable[..., Page]) -> Callable[[str], Page]:
    """A person's device in a language: English on a phone, Spanish on a laptop."""

    def make(language: str) -> Page:
        # Signing in happens in English (the journeys' helpers find fields by their English
        # names); `speak` then makes every request ask for the language (Accept-Language).
        english = {"Accept-Language": "en"}
        viewport = DESKTOP if language == "es" else PHONE
        page = new_page(viewport=viewport, extra_http_headers=english)
        # axe-core is handed to the device once and put in every page it opens (through the
        # DevTools protocol: the pages keep their strict CSP), instead of sending its 550 KB again
        # for each of the ~550 pages the sweeps open.
        page.context.add_init_script(axe_source() + "\n;undefined")
        return page

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
        facts = with_axe(page, _PAGE_FACTS_JS, page.viewport_size == PHONE)
        if (lang := facts["lang"]) != language:
            problems.append(f"{label}: <html lang={lang!r}> on a page asked for in {language!r}")
        problems += described(facts["violations"], label)
        problems += [f"{label}: small touch target {t}" for t in facts["small"]]
        if facts["overflow"] > 0:
            problems.append(f"{label}: scrolls sideways by {facts['overflow']}px on a phone")
        links: list[str] = facts["links"]
        for link in links:
            if link.startswith(live_url) and not _SKIP.search(link) and link not in queued:
                queued.add(link)
                queue.append(link)
    return visited, problems


def sweep_person(who: str, language: str, page: Page, live_server: LiveServer) -> None:
    """Sign `who` in, switch to `language`, walk every page they reach; no problem allowed."""
    PEOPLE[who](page)
    speak(page, language)
    page.reload()
    visited, problems = sweep(page, f"[{language}] {who}", live_server.url, language)
    print(f"a11y sweep [{language}] {who}: {len(visited)} pages: {' '.join(sorted(visited))}")
    assert len(visited) >= 3, visited  # the sweep really walked the person's pages
    assert problems == [], "\n" + "\n".join(problems)
