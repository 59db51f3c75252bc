"""LG-02 (sign-in and privilege events are recorded), LG-03 (no secret or PHI in the app's logs)
and LG-06 (no change without its audit row)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portal.models import AuditLog, Message, OutboxEmail
from tests.support.browser import Browser
from tests.support.builders import build_threads
from tests.support.rows import PASSWORD, World

NEW_PASSWORD = "a quiet lake at dawn 2026"


def _events(db_session: Session, since: int) -> list[tuple[str, str, int | None, int | None]]:
    db_session.expire_all()
    rows = db_session.scalars(select(AuditLog).where(AuditLog.id > since).order_by(AuditLog.id))
    return [(r.action, r.outcome, r.actor_id, r.object_id) for r in rows]


def _last(db_session: Session) -> int:
    return int(db_session.scalar(select(func.max(AuditLog.id))) or 0)


def test_LG02_sign_in_success_failure_and_sign_out_are_recorded(
    browser: Browser, db_session: Session, world: World
) -> None:
    start = _last(db_session)
    browser.get("/login")
    assert browser.post("/login", {"email": "g1@family.test", "password": "wrong"}).status_code
    assert browser.post("/login", {"email": "nobody@x.test", "password": "wrong"}).status_code
    browser.login("g1@family.test")
    mark = _last(db_session)
    browser.post("/logout")
    g1 = world.g1.id
    assert _events(db_session, start)[:3] == [
        ("login", "failure", None, g1),
        ("login", "failure", None, None),  # an unknown name: nothing of what was typed is kept
        ("login", "success", g1, g1),
    ]
    assert ("logout", "success", g1, g1) in _events(db_session, mark)
    typed = db_session.scalars(select(AuditLog.detail).where(AuditLog.id > start)).all()
    assert not any(d and "nobody" in d for d in typed)


def test_LG02_a_throttled_sign_in_is_recorded_as_denied(
    browser: Browser, db_session: Session, world: World
) -> None:
    start = _last(db_session)
    browser.get("/login/kids")
    for _ in range(5):
        browser.post("/login/kids", {"username": "cody1", "secret": "0000"})
    assert browser.post("/login/kids", {"username": "cody1", "secret": "0000"}).status_code == 429
    rows = db_session.scalars(select(AuditLog).where(AuditLog.id > start)).all()
    throttled = [r for r in rows if r.detail == "throttled"]
    assert [(r.action, r.outcome, r.object_id) for r in throttled] == [
        ("login", "denied", world.c1.id)
    ]


def test_LG02_password_change_is_recorded(
    browser: Browser, db_session: Session, world: World
) -> None:
    browser.login("t1@clinic.test")
    start = _last(db_session)
    browser.get("/account/password")
    response = browser.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert _events(db_session, start) == [("password_change", "success", world.t1.id, world.t1.id)]


def test_LG02_care_team_and_role_changes_are_recorded(
    browser: Browser, new_browser: Callable[[], Browser], db_session: Session, world: World
) -> None:
    therapist = new_browser()
    therapist.login("t1@clinic.test")
    start = _last(db_session)
    response = therapist.post(f"/cases/{world.case1.id}/guardians/{world.link1.id}/end")
    assert response.status_code == 303
    assert _events(db_session, start) == [
        ("guardian_link_revoke", "success", world.t1.id, world.link1.id)
    ]
    admin = new_browser()
    admin.login("a@clinic.test")
    start = _last(db_session)
    admin.get("/admin/therapists")
    response = admin.post(
        "/admin/therapists", {"display_name": "Dr. New", "email": "new@clinic.test"}
    )
    assert response.status_code == 303
    events = _events(db_session, start)
    assert [(a, o, actor) for a, o, actor, _ in events] == [
        ("role_grant", "success", world.admin.id)
    ]


def test_LG02_a_guardian_link_granted_by_invitation_is_recorded(
    browser: Browser, new_browser: Callable[[], Browser], db_session: Session, world: World
) -> None:
    browser.login("t1@clinic.test")
    browser.post(
        f"/cases/{world.case1.id}/invitations",
        {
            "email": "dan@family.test",
            "relationship_label": "Father",
            "household": "Dad's house",
            "has_legal_authority": "y",
            "can_consent": "y",
        },
    )
    mail = db_session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
    assert mail is not None
    path = re.search(r"http://portal\.test(/invite/\S+)", mail.body).group(1)  # type: ignore[union-attr]
    start = _last(db_session)
    dan = new_browser()
    dan.get(path)
    response = dan.post(
        path,
        {
            "display_name": "Dan Example",
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
            "treatment": "y",
            "portal_terms": "y",
            "messaging_policy": "y",
            "parental_consent_under_13": "y",
        },
    )
    assert response.status_code == 302
    granted = db_session.scalars(
        select(AuditLog).where(AuditLog.id > start, AuditLog.action == "guardian_link_grant")
    ).all()
    assert len(granted) == 1
    assert granted[0].child_id == world.case1.child_id and granted[0].actor_id is not None


def _refuse_new_messages(db_session: Session) -> None:
    """A database that refuses the next message insert (as a full disk or a broken constraint
    would): the app logs the error, and that log line must not carry the row it was writing."""
    if db_session.get_bind().dialect.name == "sqlite":
        db_session.execute(
            text(
                "CREATE TRIGGER refuse_messages BEFORE INSERT ON messages "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        )
    else:
        db_session.execute(
            text(
                "CREATE FUNCTION refuse_messages() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'refused'; END; $$"
            )
        )
        db_session.execute(
            text(
                "CREATE TRIGGER refuse_messages BEFORE INSERT ON messages "
                "FOR EACH ROW EXECUTE FUNCTION refuse_messages()"
            )
        )
    db_session.commit()


def _thread_key(browser: Browser, thread_id: int) -> str:
    page = browser.get(f"/messages/{thread_id}").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)
    assert key
    return key[1]


def test_LG03_logs_hold_no_password_cookie_csrf_token_invite_token_or_message(
    app: Flask,
    browser: Browser,
    new_browser: Callable[[], Browser],
    db_session: Session,
    world: World,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    thread_id = build_threads(app, db_session, world)["family_thread"]
    sentinel = "SENTINEL_LOGGED_MESSAGE_BODY_77aa"
    browser.get("/login")
    browser.post("/login", {"email": "g1@family.test", "password": "wrong " + PASSWORD})
    browser.login("g1@family.test")
    browser.get("/account/password")
    changed = browser.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    sent = browser.post(
        f"/messages/{thread_id}",
        {"body": sentinel, "idempotency_key": _thread_key(browser, thread_id)},
    )
    assert sent.status_code == 303
    _refuse_new_messages(db_session)
    failed = browser.post(
        f"/messages/{thread_id}",
        {"body": sentinel + " again", "idempotency_key": _thread_key(browser, thread_id)},
    )
    assert failed.status_code == 500
    therapist = new_browser()
    therapist.login("t1@clinic.test")
    therapist.post(
        f"/cases/{world.case1.id}/invitations",
        {
            "email": "uncle@family.test",
            "relationship_label": "Uncle",
            "household": "Uncle's",
            "has_legal_authority": "y",
            "can_consent": "y",
        },
    )
    mail = db_session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
    assert mail is not None and "/invite/" in mail.body
    invite_token = mail.body.split("/invite/", 1)[1].split()[0]
    cookie = browser.client.get_cookie("rapport_session")
    assert cookie is not None and browser.token
    secrets = {
        "password": PASSWORD,
        "new password": NEW_PASSWORD,
        "session cookie": cookie.value,
        "csrf token": browser.token,
        "invite token": invite_token,
        "message body": sentinel,
    }
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert "unhandled error" in logged, "the refused insert was logged: the check means something"
    assert [name for name, value in secrets.items() if value in logged] == []


def test_LG06_when_the_audit_insert_fails_the_change_is_rolled_back(
    app: Flask,
    browser: Browser,
    db_session: Session,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    thread_id = build_threads(app, db_session, world)["family_thread"]
    browser.login("g1@family.test")
    key = _thread_key(browser, thread_id)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("audit storage unavailable")

    monkeypatch.setattr("portal.audit.append_row", broken)
    before = _last(db_session)
    response = browser.post(
        f"/messages/{thread_id}", {"body": "This must not be stored", "idempotency_key": key}
    )
    assert response.status_code == 500
    assert (
        db_session.scalar(select(Message.id).where(Message.body == "This must not be stored"))
        is None
    )
    assert _last(db_session) == before


def test_LG01_a_poll_with_nothing_new_writes_nothing_and_one_with_news_writes_one_row(
    app: Flask, browser: Browser, db_session: Session, world: World
) -> None:
    from portal.models import MessageThread

    thread_id = build_threads(app, db_session, world)["family_thread"]
    browser.login("g1@family.test")
    version = db_session.get(MessageThread, thread_id).version  # type: ignore[union-attr]
    start = _last(db_session)
    for _ in range(3):
        quiet = browser.htmx("GET", f"/messages/{thread_id}/updates?v={version}")
        assert quiet.status_code == 204
    assert _events(db_session, start) == []
    news = browser.htmx("GET", f"/messages/{thread_id}/updates?v={version - 1}")
    assert news.status_code == 200
    assert _events(db_session, start) == [("read", "success", world.g1.id, thread_id)]


def test_LG07_a_missing_id_is_not_found_and_another_familys_is_denied(
    browser: Browser, db_session: Session, world: World
) -> None:
    browser.login("t1@clinic.test")
    start = _last(db_session)
    assert browser.get(f"/cases/{world.case2.id}").status_code == 404
    assert browser.get(f"/cases/{world.case2.id + 10_000}").status_code == 404
    assert (
        browser.post(f"/cases/{world.case2.id}/therapists", {"email": "x@y.z"}).status_code == 404
    )
    rows = db_session.scalars(select(AuditLog).where(AuditLog.id > start).order_by(AuditLog.id))
    assert [(r.action, r.outcome, r.object_type, r.object_id, r.child_id) for r in rows] == [
        ("read", "denied", "case", world.case2.id, world.case2.child_id),
        ("read", "not_found", "case", world.case2.id + 10_000, None),
        ("create", "denied", "case", world.case2.id, world.case2.child_id),
    ]
