"""Static files a browser keeps (portal/web/static_files.py, issue 17): every link to a static file
names the file's version, the current version is kept by the browser for a year, and anything else
(no version, an old one) is checked with the server each time, as before."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

from flask import Flask, url_for

from portal.web.static_files import static_version
from tests.support.browser import Browser
from tests.support.rows import World

STATIC = Path(__file__).resolve().parents[1] / "static"
LINK = re.compile(r'(?:src|href)="/static/([^"?]+)(\?v=([0-9a-f]+))?"')


def _version(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def test_every_static_link_names_the_files_current_version(
    new_browser: Callable[[], Browser], world: World
) -> None:
    guardian = new_browser()
    guardian.login("g1@family.test")
    pages = [
        new_browser().get("/login").get_data(as_text=True),
        guardian.get(f"/family/{world.case1.id}").get_data(as_text=True),
    ]
    links = [match for page in pages for match in LINK.findall(page)]
    assert len(links) >= 10, links  # the stylesheet, the scripts, the icon, the manifest...
    for filename, _query, version in links:
        assert version == _version(STATIC / filename), filename


def test_the_current_version_is_kept_for_a_year(browser: Browser) -> None:
    page = browser.get("/login").get_data(as_text=True)
    stylesheet = re.search(r'href="(/static/css/rapport\.css\?v=[0-9a-f]+)"', page)
    assert stylesheet
    first = browser.get(stylesheet.group(1))
    first.close()
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert first.headers["X-Content-Type-Options"] == "nosniff"  # HD-03 still holds
    again = browser.client.get(
        stylesheet.group(1), headers={"If-None-Match": first.headers["ETag"]}
    )
    again.close()
    assert again.status_code == 304
    assert "immutable" in again.headers["Cache-Control"]


def test_no_version_or_an_old_one_is_checked_with_the_server_each_time(browser: Browser) -> None:
    for path in ("/static/css/rapport.css", "/static/css/rapport.css?v=0123456789ab"):
        response = browser.get(path)
        response.close()
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-cache", path
        assert "max-age" not in response.headers["Cache-Control"], path


def test_a_changed_file_gets_a_new_version(tmp_path: Path) -> None:
    picture = tmp_path / "pictures" / "cat.svg"
    picture.parent.mkdir()
    picture.write_text("<svg>one</svg>")
    before = static_version(str(tmp_path), "pictures/cat.svg")
    assert before == _version(picture)
    picture.write_text("<svg>two</svg>")  # the same size: the modification time tells
    os.utime(picture, ns=(1_000_000_000, 1_000_000_000))
    after = static_version(str(tmp_path), "pictures/cat.svg")
    assert after == _version(picture) and after != before


def test_a_name_outside_the_folder_or_missing_has_no_version(tmp_path: Path, app: Flask) -> None:
    (tmp_path / "inside.css").write_text("body {}")
    (tmp_path.parent / "outside.css").write_text("body {}")
    assert static_version(str(tmp_path), "../outside.css") is None
    assert static_version(str(tmp_path), "missing.css") is None
    with app.test_request_context():
        assert url_for("static", filename="no-such-file.css") == "/static/no-such-file.css"


def test_a_signed_in_persons_static_files_neither_vary_on_nor_set_the_cookie(
    new_browser: Callable[[], Browser], world: World
) -> None:
    """The sign-in cookie is re-signed on every page; a kept file that varied on it would be
    checked with the server again after each page, and a file carries no sign-in to refresh."""
    guardian = new_browser()
    guardian.login("g1@family.test")
    page = guardian.get(f"/family/{world.case1.id}")
    assert "Cookie" in page.headers.get("Vary", "")  # pages do depend on who is signed in
    for filename, query, _version in LINK.findall(page.get_data(as_text=True)):
        response = guardian.get(f"/static/{filename}{query}")
        response.close()
        assert response.status_code == 200, filename
        assert "Cookie" not in response.headers.get("Vary", ""), filename
        assert "Set-Cookie" not in response.headers, filename
