"""What every signed-in request pays for its sign-in (issue 17), and that paying less changed
nothing: the check reads the session row as plain columns beside the person, loads the
`AuthSession` object only for a view that changes it, and still refuses an ended sign-in on the
very next request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.models import AuthSession
from portal.security import token_hash
from tests.support.browser import Browser
from tests.support.people import enter_child_mode
from tests.support.rows import World


@pytest.fixture()
def session_objects_loaded() -> Iterator[list[int]]:
    """The ids of `AuthSession` rows the ORM turned into objects while the test ran."""
    loaded: list[int] = []

    def on_load(target: AuthSession, _context: Any) -> None:
        loaded.append(target.id)

    event.listen(AuthSession, "load", on_load)
    yield loaded
    event.remove(AuthSession, "load", on_load)


def _sign_in_of(app: Flask, browser: Browser, db_session: Session) -> AuthSession:
    cookie = browser.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    token = serializer.loads(cookie.value)["sid"]
    return db_session.scalars(
        select(AuthSession)
        .where(AuthSession.token_hash == token_hash(token))
        .execution_options(populate_existing=True)
    ).one()


def test_a_page_view_checks_the_sign_in_without_loading_its_session_object(
    world: World, browser: Browser, session_objects_loaded: list[int]
) -> None:
    browser.login("g1@family.test")
    session_objects_loaded.clear()
    page = browser.get(f"/family/{world.case1.id}")
    assert page.status_code == 200
    assert session_objects_loaded == []


def test_a_view_that_changes_the_sign_in_still_gets_its_session_object(
    app: Flask,
    world: World,
    browser: Browser,
    db_session: Session,
    session_objects_loaded: list[int],
) -> None:
    browser.login("g1@family.test")
    session_objects_loaded.clear()
    enter_child_mode(browser, world.case1.id)
    row = _sign_in_of(app, browser, db_session)
    assert row.child_mode_child_id == world.case1.child_id
    assert row.id in session_objects_loaded  # the view changed the object it loaded
    # The next page reads child mode from the check's columns: the family page is out of reach.
    session_objects_loaded.clear()
    assert browser.get(f"/family/{world.case1.id}").headers["Location"] == "/me"
    assert session_objects_loaded == []


def test_a_sign_in_ended_elsewhere_is_refused_on_the_very_next_request(
    app: Flask, world: World, browser: Browser, db_session: Session
) -> None:
    browser.login("g1@family.test")
    family_page = f"/family/{world.case1.id}"
    assert browser.get(family_page).status_code == 200
    row = _sign_in_of(app, browser, db_session)
    db_session.execute(
        update(AuthSession)
        .where(AuthSession.id == row.id)
        .values(ended_at=utcnow(), end_reason="ended elsewhere")
    )
    db_session.commit()

    refused = browser.get(family_page)
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/login")
    assert _sign_in_of(app, browser, db_session).end_reason == "ended elsewhere"


def test_a_page_view_still_moves_the_idle_clock_when_a_minute_has_passed(
    app: Flask, world: World, browser: Browser, db_session: Session
) -> None:
    browser.login("g1@family.test")
    row = _sign_in_of(app, browser, db_session)
    earlier = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    db_session.execute(
        update(AuthSession).where(AuthSession.id == row.id).values(last_active_at=earlier)
    )
    db_session.commit()
    assert browser.get(f"/family/{world.case1.id}").status_code == 200
    assert _sign_in_of(app, browser, db_session).last_active_at > earlier
