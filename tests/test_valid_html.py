"""Valid HTML (issue 16): every page the demo people reach passes the W3C Nu HTML checker.

The demo clinic is loaded into its own SQLite file. Each demo person signs in through the test
client and the crawl follows every same-site link from their home page (up to PER_ROUTE pages of a
route, as the accessibility sweep does), plus a page that does not exist. On the way it collects
the htmx fragments those pages ask for: the same URL asked for by htmx (a named block), every
`data-hx-get` target, and one submission of each kind of `data-hx-post` form with its hidden
fields (a moved step, an empty cheer: the error state). Fragments are wrapped in a minimal
document so the checker judges only what the server sent.

All of it is written to files and vnu (`node_modules/vnu-jar`, pinned in package-lock.json) runs
ONCE over them: one JVM start, not one per page. A failure lists page, line and message. A
canary document with known faults goes into the same run, so a checker that finds nothing at all
fails the test instead of passing it.

Without Java the module is skipped with a notice (`apt-get install default-jre-headless`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess  # nosec B404 - runs the pinned checker on files this test wrote
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask

from portal.db import get_session
from portal.demo import DEMO_PASSWORD, LEO_PIN
from tests.support.browser import Browser
from tests.support.demo import demo_app as build_demo_app

ROOT = Path(__file__).resolve().parents[1]
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
JAVA = shutil.which("java")
JAVA_MISSING = (
    "Java not found: the HTML validity check (vnu) is skipped. "
    "Install it with: apt-get install default-jre-headless"
)
pytestmark = [
    pytest.mark.vnu,
    pytest.mark.skipif(JAVA is None, reason=JAVA_MISSING),
]

PER_ROUTE = 3  # one route shows a young child's case, an 8-12's and a teen's
MAX_PAGES = 150  # per person: a safety net, far above the routes anyone can reach today
# Links the crawl never follows: signing out, live streams, static files, downloads (not pages).
_SKIP = re.compile(r"/logout|/stream|/static/|/export|\.(json|csv|zip|pdf)$")
_FRAGMENT_PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>htmx fragment</title>'
    "</head><body>\n{}\n</body></html>"
)


@dataclass
class _Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)


class _Links(HTMLParser):
    """The links, htmx GET targets and htmx POST forms of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.hx_gets: list[str] = []
        self.hx_forms: list[_Form] = []
        self._form: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "a" and found.get("href"):
            self.links.append(found["href"].split("#")[0])
        if found.get("data-hx-get"):
            self.hx_gets.append(found["data-hx-get"])
        if tag == "form":
            self._form = _Form(found["data-hx-post"]) if found.get("data-hx-post") else None
            if self._form:
                self.hx_forms.append(self._form)
        if self._form and tag == "input" and found.get("type") == "hidden" and "name" in found:
            self._form.fields[found["name"]] = found.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def _route_of(url: str) -> str:
    """/cases/12/plan?v=3 -> /cases/N/plan?v: one page per route and query shape."""
    parts = urlsplit(url)
    keys = sorted({pair.split("=")[0] for pair in parts.query.split("&") if pair})
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


@dataclass
class Crawl:
    out: Path
    labels: dict[str, str] = field(default_factory=dict)  # file name -> what it is, for the report
    problems: list[str] = field(default_factory=list)
    seen_forms: set[str] = field(default_factory=set)

    def keep(self, label: str, html: str, *, fragment: bool = False) -> None:
        path = self.out / f"{len(self.labels):04d}.html"
        path.write_text(_FRAGMENT_PAGE.format(html) if fragment else html, encoding="utf-8")
        self.labels[path.name] = label

    def person(self, who: str, browser: Browser, start: str) -> int:
        per_route: dict[str, int] = {}
        queue = [start, "/no-such-page"]
        queued = set(queue)
        visited = 0
        while queue and visited < MAX_PAGES:
            url = queue.pop(0)
            route = _route_of(url)
            if per_route.get(route, 0) >= PER_ROUTE:
                continue
            per_route[route] = per_route.get(route, 0) + 1
            response = browser.get(url, follow_redirects=True)
            if response.status_code >= 500:
                self.problems.append(f"{who} {url}: answered {response.status_code}")
                continue
            if response.mimetype != "text/html":
                continue
            visited += 1
            html = response.get_data(as_text=True)
            self.keep(f"{who} {url}", html)
            parser = _Links()
            parser.feed(html)
            self._fragments(who, browser, url, parser)
            for link in parser.links:
                if link.startswith("/") and not _SKIP.search(link) and link not in queued:
                    queued.add(link)
                    queue.append(link)
        return visited

    def _fragments(self, who: str, browser: Browser, url: str, parser: _Links) -> None:
        headers = {"HX-Request": "true", "HX-Current-URL": f"http://localhost{url}"}
        for target in [url, *parser.hx_gets]:
            response = browser.client.get(target, headers=headers)
            body = response.get_data(as_text=True)
            if response.status_code == 200 and not body.lstrip().lower().startswith("<!doctype"):
                self.keep(f"{who} {target} (htmx fragment)", body, fragment=True)
        for form in parser.hx_forms:
            kind = f"{who} {_route_of(form.action)}"
            if kind in self.seen_forms:
                continue
            self.seen_forms.add(kind)
            response = browser.client.post(
                form.action,
                data=form.fields,
                headers={**headers, "X-CSRFToken": browser.ensure_token()},
            )
            if response.status_code >= 500:
                self.problems.append(f"{kind} (htmx post): answered {response.status_code}")
            elif response.mimetype == "text/html" and response.get_data():
                label = f"{kind} (htmx post, answered {response.status_code})"
                self.keep(label, response.get_data(as_text=True), fragment=True)


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = build_demo_app(tmp_path_factory.mktemp("vnu-demo") / "demo.db")
    yield app
    with app.app_context():
        get_session().close()


ADULTS = [
    "rivera@demo.rapport.test",
    "chen@demo.rapport.test",
    "ana@demo.rapport.test",
    "ben@demo.rapport.test",
    "carla@demo.rapport.test",
    "david@demo.rapport.test",
    "erin@demo.rapport.test",
]


def _crawl_demo(app: Flask, crawl: Crawl) -> dict[str, int]:
    counts: dict[str, int] = {}
    nobody = Browser(app.test_client())
    counts["signed-out"] = crawl.person("signed-out", nobody, "/login")
    for path in ("/login/kids", "/account/forgot"):
        crawl.person("signed-out", nobody, path)
    for email in ADULTS:
        person = Browser(app.test_client())
        response = person.login(email, DEMO_PASSWORD)
        counts[email] = crawl.person(email, person, response.headers["Location"])
    for username, secret in (("leo", LEO_PIN), ("sam", DEMO_PASSWORD)):
        child = Browser(app.test_client())
        response = child.login(username, secret)
        counts[username] = crawl.person(username, child, response.headers["Location"])
    # Maya's screen: Ana opens child mode on her own session.
    ana = Browser(app.test_client())
    ana.login("ana@demo.rapport.test", DEMO_PASSWORD)
    family = ana.get("/family", follow_redirects=True).get_data(as_text=True)
    button = re.search(r'action="(/family/\d+/child-mode[^"]*)"', family)
    assert button, "Ana's family page has no 'Open Maya's screen' form"
    opened = ana.post(button.group(1))
    assert opened.status_code in (302, 303), opened.status_code
    counts["maya"] = crawl.person("maya (child mode)", ana, opened.headers["Location"])
    return counts


# A document the checker must fault, checked in the same run: a silent checker fails the test.
_CANARY = _FRAGMENT_PAGE.format('<p id="twice" hx-get="/x">a</p><p id="twice">b</p>')


def _vnu(files: list[Path]) -> list[dict[str, object]]:
    assert JAVA is not None
    assert VNU_JAR.exists(), f"{VNU_JAR} is missing: run `npm ci`"
    result = subprocess.run(  # nosec B603 - fixed argv: java, the pinned jar, our own files
        [JAVA, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stderr or result.stdout
    assert output.startswith("{"), (
        f"vnu did not answer in JSON (exit {result.returncode}):\n{output}"
    )
    messages: list[dict[str, object]] = json.loads(output)["messages"]
    return messages


def _file_of(message: dict[str, object]) -> str:
    return Path(urlsplit(str(message.get("url"))).path).name


def test_every_page_the_demo_people_reach_is_valid_html(demo_app: Flask, tmp_path: Path) -> None:
    crawl = Crawl(tmp_path)
    counts = _crawl_demo(demo_app, crawl)
    print(f"vnu: {len(crawl.labels)} documents from", counts)
    assert all(n >= 3 for n in counts.values()), counts  # the crawl really walked everyone's pages
    assert crawl.problems == [], "\n" + "\n".join(crawl.problems)

    (tmp_path / "canary.html").write_text(_CANARY, encoding="utf-8")

    messages = _vnu(sorted(tmp_path.glob("*.html")))
    canary = " ".join(str(m.get("message")) for m in messages if _file_of(m) == "canary.html")
    assert "hx-get" in canary and "Duplicate ID" in canary, f"vnu missed known faults: {canary!r}"
    report = [
        f"{crawl.labels.get(_file_of(m), m.get('url'))} line {m.get('lastLine', '?')}: "
        f"{m.get('message')}"
        for m in messages
        if _file_of(m) != "canary.html"
    ]
    pages = {line.split(" line ")[0] for line in report}
    assert report == [], f"\n{len(report)} errors on {len(pages)} documents:\n" + "\n".join(report)
