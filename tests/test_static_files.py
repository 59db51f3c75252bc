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

from portal import create_app
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


def test_outside_debug_mode_a_version_is_worked_out_once_per_process(tmp_path: Path) -> None:
    """A deployed app's files change only with a deployment (a restart): no `stat` per link."""
    picture = tmp_path / "pictures" / "dog.svg"
    picture.parent.mkdir()
    picture.write_text("<svg>one</svg>")
    kept = static_version(str(tmp_path), "pictures/dog.svg", watch=False)
    picture.write_text("<svg>two</svg>")
    os.utime(picture, ns=(1_000_000_000, 1_000_000_000))
    assert static_version(str(tmp_path), "pictures/dog.svg", watch=False) == kept
    assert static_version(str(tmp_path), "pictures/dog.svg") == _version(picture) != kept


def test_in_debug_mode_an_edited_stylesheet_gets_a_new_link_without_a_restart(
    tmp_path: Path,
) -> None:
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    sheet = static / "css" / "x.css"
    sheet.write_text("a {}")
    for debug in (True, False):
        app = create_app(
            {
                "TESTING": True,
                "PORTAL_ENV": "test",
                "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
            }
        )
        app.static_folder = str(static)
        app.debug = debug
        with app.test_request_context():
            first = url_for("static", filename="css/x.css")
            sheet.write_text("b {}")
            os.utime(sheet, ns=(2_000_000_000 + debug, 2_000_000_000 + debug))
            second = url_for("static", filename="css/x.css")
        assert (first != second) is debug, (debug, first, second)
