"""The idle poll's own sign-in check (issue 17): a background request is admitted by a check that
reads the session's plain columns instead of loading it, its person and their clinic. It keeps
every rule of the page views' check: an idle (SE-03) or too old (SE-04) session is ended and
answers 401 with HX-Redirect, a signed-out (SE-02), half signed-in (AU-08), disabled (SE-06) or
foreign session is refused, child mode still sends the child back, and nothing moves the idle
clock (SE-05). When the poll finds news, the person is loaded after all, for that session only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import AuditLog, AuthSession, MessageThread
from portal.security import token_hash
from tests.support.browser import Browser
from tests.support.rows import World

HTMX = {"HX-Request": "true"}


def _signed_in_guardian(app: Flask) -> Browser:
    browser = Browser(app.test_client())
    browser.login("g1@family.test")
    return browser


def _quiet_poll(browser: Browser, db_session: Session, thread_id: int) -> Any:
    """The poll at the thread's current version: nothing new."""
    db_session.expire_all()
    thread = db_session.get(MessageThread, thread_id)
    assert thread is not None
    return browser.client.get(f"/messages/{thread_id}/updates?v={thread.version}", headers=HTMX)


def _row_of(app: Flask, browser: Browser, db_session: Session) -> AuthSession:
    with browser.client.session_transaction() as cookie:
        token = cookie["sid"]
    return db_session.scalars(
        select(AuthSession)
        .where(AuthSession.token_hash == token_hash(token))
        .execution_options(populate_existing=True)
    ).one()


def _assert_refused(response: Any) -> None:
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")
    assert response.headers["HX-Redirect"] != "/login?expired=1"


def test_a_quiet_poll_answers_204_and_leaves_the_idle_clock_alone(
    app: Flask, db_session: Session, threads: dict[str, int], clock: time_machine.Traveller
) -> None:
    browser = _signed_in_guardian(app)
    before = _row_of(app, browser, db_session).last_active_at
    clock.shift(timedelta(minutes=5))
    poll = _quiet_poll(browser, db_session, threads["family_thread"])
    assert poll.status_code == 204
    assert poll.get_data() == b""
    assert "Set-Cookie" not in poll.headers
    assert _row_of(app, browser, db_session).last_active_at == before


def test_SE03_a_quiet_poll_after_thirty_idle_minutes_ends_the_session(
    app: Flask, db_session: Session, threads: dict[str, int], clock: time_machine.Traveller
) -> None:
    browser = _signed_in_guardian(app)
    clock.shift(timedelta(minutes=31))
    poll = _quiet_poll(browser, db_session, threads["family_thread"])
    assert poll.status_code == 401
    assert poll.headers["HX-Redirect"] == "/login?expired=1"
    row = _row_of(app, browser, db_session)
    assert row.end_reason == "idle"
    assert row.ended_at is not None
    assert browser.client.get("/messages").status_code == 302


def test_SE04_a_quiet_poll_of_a_twelve_hour_old_session_ends_it(
    app: Flask, db_session: Session, threads: dict[str, int]
) -> None:
    browser = _signed_in_guardian(app)
    row = _row_of(app, browser, db_session)
    row.created_at -= timedelta(hours=12, minutes=1)
    db_session.commit()
    poll = _quiet_poll(browser, db_session, threads["family_thread"])
    assert poll.status_code == 401
    assert poll.headers["HX-Redirect"] == "/login?expired=1"
    assert _row_of(app, browser, db_session).end_reason == "absolute"


def test_SE02_a_quiet_poll_of_an_ended_session_is_refused(
    app: Flask, db_session: Session, threads: dict[str, int]
) -> None:
    browser = _signed_in_guardian(app)
    with browser.client.session_transaction() as cookie:
        copied = dict(cookie)
    browser.post("/logout")
    with browser.client.session_transaction() as cookie:
        cookie.update(copied)  # the cookie from before signing out, replayed
    _assert_refused(_quiet_poll(browser, db_session, threads["family_thread"]))
    assert _row_of(app, browser, db_session).end_reason == "signed out"


def test_SE02_a_quiet_poll_with_an_unknown_token_is_refused(
    app: Flask, db_session: Session, threads: dict[str, int]
) -> None:
    browser = _signed_in_guardian(app)
    with browser.client.session_transaction() as cookie:
        cookie["sid"] = "not-a-token-the-server-ever-issued"
    _assert_refused(_quiet_poll(browser, db_session, threads["family_thread"]))


def test_AU08_a_half_signed_in_session_is_refused_on_the_poll(
    app: Flask, db_session: Session, threads: dict[str, int]
) -> None:
    browser = _signed_in_guardian(app)
    row = _row_of(app, browser, db_session)
    row.second_factor_pending = True
    db_session.commit()
    _assert_refused(_quiet_poll(browser, db_session, threads["family_thread"]))


def test_SE06_a_disabled_person_s_poll_is_refused(
    app: Flask, db_session: Session, world: World, threads: dict[str, int]
) -> None:
    browser = _signed_in_guardian(app)
    world.g1.active = False
    db_session.commit()
    _assert_refused(_quiet_poll(browser, db_session, threads["family_thread"]))


def test_a_cookie_naming_another_person_than_its_session_is_refused_on_the_poll(
    app: Flask, db_session: Session, world: World, threads: dict[str, int]
) -> None:
    browser = _signed_in_guardian(app)
    with browser.client.session_transaction() as cookie:
        cookie["_user_id"] = str(world.t1.id)  # g1's session token, the therapist's id
    _assert_refused(_quiet_poll(browser, db_session, threads["family_thread"]))
    with browser.client.session_transaction() as cookie:
        del cookie["_user_id"]
    _assert_refused(_quiet_poll(browser, db_session, threads["family_thread"]))


def test_child_mode_sends_the_poll_back_to_the_child_s_screen(
    app: Flask, db_session: Session, world: World, threads: dict[str, int]
) -> None:
    browser = _signed_in_guardian(app)
    row = _row_of(app, browser, db_session)
    row.child_mode_child_id = world.case1.child_id
    db_session.commit()
    poll = _quiet_poll(browser, db_session, threads["family_thread"])
    assert poll.status_code == 204
    assert poll.headers["HX-Redirect"] == "/me"


def test_a_poll_with_news_loads_the_person_and_renders_the_new_messages(
    app: Flask, db_session: Session, world: World, threads: dict[str, int]
) -> None:
    browser = _signed_in_guardian(app)
    thread_id = threads["family_thread"]
    news = browser.client.get(f"/messages/{thread_id}/updates?v=0", headers=HTMX)
    assert news.status_code == 200
    assert "Welcome to the thread." in news.get_data(as_text=True)


def test_a_non_member_s_poll_is_404_and_audited_as_theirs(
    app: Flask, db_session: Session, world: World, threads: dict[str, int]
) -> None:
    """The denial row names the person the background check admitted (loaded for the row)."""
    browser = _signed_in_guardian(app)
    other_family = threads["other_family_thread"]
    last = db_session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) or 0
    poll = browser.client.get(f"/messages/{other_family}/updates?v=0", headers=HTMX)
    assert poll.status_code == 404
    rows = db_session.scalars(select(AuditLog).where(AuditLog.id > last)).all()
    assert [(r.actor_id, r.outcome, r.object_id) for r in rows] == [
        (world.g1.id, "denied", other_family)
    ]
