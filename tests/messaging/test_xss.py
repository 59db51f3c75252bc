"""XS-01/XS-02: the payload corpus, posted as messages, comes out escaped in every place a message
is shown: the thread page, the htmx fragment, the thread lists and the notification email."""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.messages.rendering import render_message
from portal.models import OutboxEmail
from tests.support.browser import Browser
from tests.support.rows import World

CORPUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
    "{{7*7}}",
    "{% raw %}",
    '<div hx-get="/logout" hx-trigger="load">',
    '<a hx-on:click="alert(1)">',
    '<div data-hx-get="/logout" data-hx-trigger="load">',
    '<a data-hx-on:click="alert(1)">',
    "<form action=//evil.test>",
    'https://ok.test/"onmouseover="alert(1)',
    "http://x.test/<script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
]
SAFE_SCRIPTS = (
    "/static/vendor/",
    "/static/js/messages.js",
    "/static/js/forms.js",
    "/static/js/a11y.js",
    "/static/js/read-aloud.js",
    "/static/js/thermometer.js",
    "/static/js/offline.js",
)


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


def elements_of(body: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = Elements()
    parser.feed(body)
    return parser.elements


def assert_nothing_came_from_user_input(body: str, where: str) -> None:
    for tag, attrs in elements_of(body):
        names = {name for name, _ in attrs}
        values = " ".join(value or "" for _, value in attrs)
        assert tag not in ("img", "svg", "iframe", "object", "embed"), (where, tag)
        if tag == "script":
            assert dict(attrs).get("src", "").startswith(SAFE_SCRIPTS), (where, attrs)
        if tag == "form":
            assert (dict(attrs).get("action") or "/").startswith("/"), (where, attrs)
            assert "evil.test" not in values, where
        assert not any(name.startswith("on") for name in names), (where, tag, attrs)
        assert "alert(" not in values, (where, tag, attrs)
        for prefix in ("hx-", "data-hx-"):
            assert "/logout" not in (dict(attrs).get(f"{prefix}get") or ""), (where, attrs)
            assert f"{prefix}on:click" not in names, (where, attrs)
        href = (dict(attrs).get("href") or "").strip().lower()
        assert not href.startswith("javascript:"), (where, attrs)
    assert ">49<" not in body and "49</div>" not in body, where


@pytest.fixture()
def posted(
    new_browser: Callable[[], Browser], world: World, threads: dict[str, int]
) -> dict[str, Browser]:
    gwen = new_browser()
    gwen.login("g1@family.test")
    for payload in CORPUS:
        response = gwen.post(
            f"/messages/{threads['family_thread']}",
            {"body": payload, "idempotency_key": str(uuid.uuid4())},
        )
        assert response.status_code == 303, payload
    tess = new_browser()
    tess.login("t1@clinic.test")
    return {"G1": gwen, "T1": tess}


def test_XS01_payloads_render_escaped_on_the_thread_page_and_fragment(
    posted: dict[str, Browser], world: World, threads: dict[str, int]
) -> None:
    thread_id = threads["family_thread"]
    for who, browser in posted.items():
        page = browser.get(f"/messages/{thread_id}").get_data(as_text=True)
        fragment = browser.client.get(
            f"/messages/{thread_id}/updates?v=0", headers={"HX-Request": "true"}
        ).get_data(as_text=True)
        for where, body in (("page", page), ("fragment", fragment)):
            assert_nothing_came_from_user_input(body, f"{who} {where}")
            for payload in CORPUS:
                if payload.startswith("http"):
                    continue  # the link part becomes a link; checked below
                assert html.escape(payload, quote=True) in body or html.escape(
                    payload, quote=False
                ) in body.replace("&#39;", "'").replace("&#34;", '"'), (who, where, payload)
        assert "{{7*7}}" in html.unescape(page)


def test_XS01_only_http_links_become_links_and_their_quotes_stay_text(
    posted: dict[str, Browser], threads: dict[str, int]
) -> None:
    page = posted["T1"].get(f"/messages/{threads['family_thread']}").get_data(as_text=True)
    links = [
        dict(attrs)["href"]
        for tag, attrs in elements_of(page)
        if tag == "a" and dict(attrs).get("rel") == "noopener noreferrer nofollow"
    ]
    assert links == ["https://ok.test/", "http://x.test/"]


def test_XS01_payloads_in_thread_list_previews(posted: dict[str, Browser], world: World) -> None:
    for who, browser in posted.items():
        for url in ("/messages", f"/cases/{world.case1.id}/messages"):
            body = browser.get(url).get_data(as_text=True)
            assert_nothing_came_from_user_input(body, f"{who} {url}")
            assert "&lt;/textarea&gt;&lt;script&gt;" in body  # the latest message, as text


def test_XS01_HP04_notification_emails_carry_no_message_content(
    posted: dict[str, Browser], db_session: Session
) -> None:
    emails = db_session.scalars(select(OutboxEmail)).all()
    assert emails
    for email in emails:
        assert email.subject == "You have a new message in Rapport"
        for payload in CORPUS:
            assert payload not in email.body
        assert "SENTINEL" not in email.body and "alert" not in email.body
        assert email.send_after is not None
        assert email.send_after - email.created_at >= timedelta(minutes=9, seconds=59)


@pytest.mark.parametrize("payload", CORPUS)
def test_XS02_the_renderer_escapes_before_it_links(payload: str) -> None:
    rendered = str(render_message(payload))
    assert_nothing_came_from_user_input(f"<div>{rendered}</div>", payload)
    assert "<script" not in rendered and "<img" not in rendered and "<svg" not in rendered


def test_XS02_no_unsafe_rendering_primitives_in_messaging(app: Flask) -> None:
    from pathlib import Path

    root = Path(app.root_path).parent
    for path in [*root.glob("templates/messages/*.html"), *root.glob("portal/messages/*.py")]:
        text = path.read_text()
        assert "|safe" not in text.replace(" ", ""), path
        assert "render_template_string" not in text and "autoescape false" not in text, path
        for line in text.splitlines():
            if "Markup(" in line:
                assert path.name == "rendering.py", path
