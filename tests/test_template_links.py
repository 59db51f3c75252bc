"""The templates' `url_for` keeps each built link (portal/web/links.py, issue 17): it writes what
Flask's `url_for` writes, for every kind of link, and still follows an edited static file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for

from portal.web.links import LONGEST, TemplateLinks

STATIC = Path(__file__).resolve().parents[1] / "static"

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("static", {"filename": "css/rapport.css"}),
    ("static", {"filename": "no-such-file.css"}),
    ("auth.home", {}),
    ("family.case_page", {"case_id": 7}),
    ("family.case_page", {"case_id": 7, "tab": "a b&c"}),  # unknown values: the query string
    ("family.case_page", {"case_id": 7, "tab": None}),
    ("family.case_page", {"tab": "x", "case_id": 7}),
    ("family.case_page", {"case_id": 7, "_anchor": "consent"}),
    ("family.case_page", {"case_id": 7, "_external": True}),
    ("cases.caseload", {"sort": "name", "q": "Ló"}),
]


def test_templates_write_the_link_flask_writes(app: Flask) -> None:
    links = app.jinja_env.globals["url_for"]
    assert isinstance(links, TemplateLinks)
    for root in ("", "/clinic"):
        for method in ("GET", "POST"):
            with app.test_request_context("/", method=method, base_url=f"http://x.test{root}"):
                for endpoint, values in CALLS:
                    for _ in range(2):  # built, then kept
                        assert links(endpoint, **values) == url_for(endpoint, **values), values


def test_a_rendered_template_uses_the_kept_links(app: Flask) -> None:
    with app.test_request_context("/"):
        page = app.jinja_env.from_string(
            "{{ url_for('static', filename='css/rapport.css') }} {{ url_for('auth.home') }}"
        ).render()
        assert page == (f"{url_for('static', filename='css/rapport.css')} {url_for('auth.home')}")


def test_one_and_true_stay_two_links(app: Flask) -> None:
    links = TemplateLinks(app)
    with app.test_request_context("/"):
        assert links("cases.caseload", page=1) == url_for("cases.caseload", page=1)
        assert links("cases.caseload", page=True) == url_for("cases.caseload", page=True)


def test_a_value_that_cannot_be_kept_is_built_each_time(app: Flask) -> None:
    links = TemplateLinks(app)
    with app.test_request_context("/"):
        assert links("cases.caseload", q=["a", "b"]) == url_for("cases.caseload", q=["a", "b"])
    assert links.built == {}


def test_outside_a_request_flask_builds_the_link(app: Flask) -> None:
    links = TemplateLinks(app)
    app.config["SERVER_NAME"] = "rapport.test"
    try:
        with app.app_context():
            assert links("auth.home") == url_for("auth.home")
    finally:
        app.config["SERVER_NAME"] = None
    assert links.built == {}


def test_in_debug_mode_an_edited_static_file_gets_a_new_link(app: Flask, tmp_path: Path) -> None:
    """(Outside debug mode a version is worked out once per process: tests/test_static_files.py.)"""
    folder = tmp_path / "static"
    shutil.copytree(STATIC / "css", folder / "css")
    links = TemplateLinks(app)
    original = app.static_folder
    app.static_folder = str(folder)
    app.debug = True
    try:
        with app.test_request_context("/"):
            before = links("static", filename="css/rapport.css")
            (folder / "css" / "rapport.css").write_text("body { color: red }")
            os.utime(folder / "css" / "rapport.css", ns=(1_000_000_000, 1_000_000_000))
            after = links("static", filename="css/rapport.css")
            assert after == url_for("static", filename="css/rapport.css")
            assert after != before
    finally:
        app.static_folder = original
        app.debug = False


def test_another_url_default_turns_keeping_off(app: Flask) -> None:
    links = TemplateLinks(app)
    app.url_default_functions.setdefault(None, []).append(lambda endpoint, values: None)
    try:
        with app.test_request_context("/"):
            assert links("auth.home") == url_for("auth.home")
        assert links.built == {}
    finally:
        app.url_default_functions[None].pop()


@pytest.mark.parametrize("endpoint", [".home"])
def test_a_relative_endpoint_is_built_by_flask(app: Flask, endpoint: str) -> None:
    links = TemplateLinks(app)
    with app.test_request_context("/family"):
        assert links(endpoint) == url_for(endpoint)
    assert links.built == {}


def test_a_long_value_is_never_kept(app: Flask) -> None:
    """A crafted `next=` path must not let requests fill a worker's memory with links."""
    links = TemplateLinks(app)
    long_path = "/family/1?" + "x" * LONGEST
    with app.test_request_context("/"):
        assert links("auth.login", next=long_path) == url_for("auth.login", next=long_path)
        assert links("auth.login", next="/family/1") == url_for("auth.login", next="/family/1")
    assert [key[1] for key in links.built] == [(("next", str, "/family/1"),)]


def test_the_kept_links_start_again_at_the_limit(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("portal.web.links.LIMIT", 3)
    links = TemplateLinks(app)
    with app.test_request_context("/"):
        for case_id in range(1, 6):
            assert links("family.case_page", case_id=case_id) == url_for(
                "family.case_page", case_id=case_id
            )
            assert len(links.built) <= 3
