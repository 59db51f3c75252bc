"""Authentication hardening (docs/security.md, AU): the password policy (AU-01), sensitive changes
(AU-05), password reset (AU-04, AU-06), demo accounts in production (AU-07) and the TOTP second
step for therapists and admins (AU-08). Real HTTP through the test client, a real database."""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import create_app, db
from portal.db import utcnow
from portal.models import (
    AccountToken,
    AuditLog,
    AuthSession,
    OutboxEmail,
    RecoveryCode,
    Role,
    User,
)
from portal.passwords import common_passwords, password_problem, verify_secret
from tests.support.browser import Browser
from tests.support.rows import PASSWORD, World
from tests.support.totp import authenticator_code as code

NEW = "a quiet walk by the river"


def account_link(session: Session, user: User, purpose: str, valid_for: timedelta) -> str:
    """A single-use account link's token (only its hash is stored), committed."""
    import secrets

    from portal.security import token_hash

    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + valid_for
    session.add(
        AccountToken(
            user_id=user.id, purpose=purpose, token_hash=token_hash(token), expires_at=expires_at
        )
    )
    session.commit()
    return token


def wrong_code() -> str:
    """A 6-digit code that none of the accepted steps (now, one before, one after) shows."""
    valid = {code(step_offset=offset) for offset in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def half_sign_in(browser: Browser, email: str, password: str = PASSWORD) -> str:
    browser.auto_second_step = False
    browser.get("/login")
    response = browser.post("/login", {"email": email, "password": password})
    assert response.status_code == 302
    location: str = response.headers["Location"]
    browser.get(location)
    return location


def outbox_to(db_session: Session, address: str) -> list[OutboxEmail]:
    return list(
        db_session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.to_address == address)
            .order_by(OutboxEmail.id)
            .execution_options(populate_existing=True)
        )
    )


def audit_actions(db_session: Session, user: User) -> list[str]:
    return list(
        db_session.scalars(
            select(AuditLog.action).where(AuditLog.actor_id == user.id).order_by(AuditLog.id)
        )
    )


# AU-01 -------------------------------------------------------------------------------------------


def test_AU01_the_common_password_list_holds_the_top_3000_with_attribution() -> None:
    data = Path(__file__).resolve().parents[2] / "portal" / "data" / "common_passwords.txt"
    text = data.read_text()
    assert "zxcvbn" in text and "MIT License" in text
    assert len(common_passwords()) == 3000
    assert {"password", "123456", "iloveyou", "baseball", "trustno1"} <= common_passwords()


@pytest.mark.parametrize(
    ("password", "staff", "accepted"),
    [
        ("seven77", False, False),
        ("eight888x", False, True),
        ("fourteen chars", True, False),  # 14 characters: too short for a therapist
        ("fifteen chars!!", True, True),
        ("x" * 128, True, True),
        ("x" * 129, False, False),
        ("all lower case words here", False, True),  # no composition rules
        ("baseball", False, False),
        ("BaseBall", False, False),
        ("iloveyou", False, False),
        ("sunshine", False, False),
        ("Rapport2026!", False, False),
        ("rapport-demo-2026", True, False),
        ("Willow Street Clinic", True, False),
    ],
)
def test_AU01_password_rules(app: Flask, password: str, staff: bool, accepted: bool) -> None:
    with app.test_request_context():
        assert (password_problem(password, staff=staff) is None) is accepted


def change_password(browser: Browser, new: str, current: str = PASSWORD) -> Any:
    browser.get("/account/password")
    return browser.post(
        "/account/password",
        {"current_password": current, "new_password": new, "confirm_password": new},
    )


def test_AU01_a_guardian_gets_a_friendly_field_error_for_a_common_password(
    browser: Browser, world: World, db_session: Session
) -> None:
    browser.login("g1@family.test")
    before = world.g1.password_hash
    response = change_password(browser, "football")
    assert response.status_code == 422
    assert "first that people try" in response.get_data(as_text=True)
    db_session.refresh(world.g1)
    assert world.g1.password_hash == before


def test_AU01_a_therapist_needs_15_characters(browser: Browser, world: World) -> None:
    browser.login("t1@clinic.test")
    response = change_password(browser, "fourteen chars")
    assert response.status_code == 422
    assert "at least 15 characters" in response.get_data(as_text=True)
    assert change_password(browser, "fifteen chars!!").status_code == 302


def test_AU01_an_invited_guardian_and_a_teen_account_get_the_same_rules(
    app: Flask, browser: Browser, world: World, db_session: Session
) -> None:
    from portal.cases.services import do_invite_guardian
    from tests.support.session import services_on

    with services_on(app, db_session):
        new = do_invite_guardian(
            world.t1,
            world.case1,
            email="aunt@family.test",
            relationship_label="Aunt",
            household="Aunt's house",
            has_legal_authority=False,
            can_consent=False,
        )
    db_session.commit()
    path = "/" + new.link.split("/", 3)[3]
    browser.get(path)
    response = browser.post(
        path,
        {
            "display_name": "Alex Aunt",
            "new_password": "sunshine",
            "confirm_password": "sunshine",
            "portal_terms": "y",
            "messaging_policy": "y",
        },
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "first that people try" in body
    assert 'value="Alex Aunt"' in body  # what was typed stays (but never a password)
    assert 'value="sunshine"' not in body


def test_AU01_the_password_is_verified_exactly_as_typed(
    browser: Browser, new_browser: Callable[[], Browser], world: World
) -> None:
    browser.login("g1@family.test")
    assert change_password(browser, NEW).status_code == 302
    for wrong in (NEW[:-1], NEW.upper(), NEW + " ", " " + NEW):
        other = new_browser()
        other.get("/login")
        answer = other.post("/login", {"email": "g1@family.test", "password": wrong})
        assert answer.status_code == 422, wrong
    other = new_browser()
    other.get("/login")
    assert other.post("/login", {"email": "g1@family.test", "password": NEW}).status_code == 302


# AU-05 -------------------------------------------------------------------------------------------


def test_AU05_a_password_change_needs_the_current_password_and_is_mailed_without_phi(
    browser: Browser, world: World, db_session: Session
) -> None:
    browser.login("g1@family.test")
    before = world.g1.password_hash
    missing = browser.post(
        "/account/password", {"new_password": NEW, "confirm_password": NEW, "current_password": ""}
    )
    assert missing.status_code == 422
    assert "Enter your current password." in missing.get_data(as_text=True)
    assert change_password(browser, NEW, current="not my password").status_code == 422
    db_session.refresh(world.g1)
    assert world.g1.password_hash == before
    assert change_password(browser, NEW).status_code == 302
    (mail,) = outbox_to(db_session, "g1@family.test")
    assert "password" in mail.body and "Cody" not in mail.body and "SENTINEL" not in mail.body


def test_AU05_an_email_change_needs_a_password_typed_in_the_last_five_minutes(
    browser: Browser, world: World, db_session: Session
) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False):
        browser.login("g1@family.test")
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        stale = browser.get("/account/email")
        assert stale.status_code == 302
        assert stale.headers["Location"].startswith("/account/confirm?next=/account/email")
        page = browser.get(stale.headers["Location"])
        assert page.status_code == 200
        wrong = browser.post(
            "/account/confirm", {"password": "nope nope nope", "next": "/account/email"}
        )
        assert wrong.status_code == 422
        right = browser.post("/account/confirm", {"password": PASSWORD, "next": "/account/email"})
        assert right.headers["Location"] == "/account/email"
        assert browser.get("/account/email").status_code == 200
        taken = browser.post("/account/email", {"email": "g2@family.test"})
        assert taken.status_code == 422
        assert 'value="g2@family.test"' in taken.get_data(as_text=True)
        asked = browser.post("/account/email", {"email": "gwen@new.test"})
        assert asked.status_code == 302
    db_session.refresh(world.g1)
    assert world.g1.email == "g1@family.test"  # only a confirmed address counts (issue 13)
    for address in ("g1@family.test", "gwen@new.test"):
        (mail,) = outbox_to(db_session, address)
        assert "address" in mail.body and "Cody" not in mail.body


def _link_in(db_session: Session, address: str, kind: str) -> str:
    found = re.search(
        rf"http://portal\.test(/account/email/{kind}/\S+)", outbox_to(db_session, address)[-1].body
    )
    assert found, address
    return found.group(1)


def _ask_for(browser: Browser, address: str) -> None:
    browser.login("g1@family.test")
    browser.get("/account/email")
    assert browser.post("/account/email", {"email": address}).status_code == 302


def test_a_new_email_address_counts_only_once_its_link_is_followed(
    new_browser: Callable[[], Browser], world: World, db_session: Session
) -> None:
    browser = new_browser()
    _ask_for(browser, "gwen@new.test")
    page = browser.get("/account/email").get_data(as_text=True)
    assert "Waiting for gwen@new.test" in page
    confirm = _link_in(db_session, "gwen@new.test", "confirm")
    notice = outbox_to(db_session, "g1@family.test")[-1]
    assert "/account/email/cancel/" in notice.body and "gwen@new.test" in notice.body
    assert "Cody" not in notice.body

    stranger = new_browser()  # a mail scanner opening the link changes nothing
    assert stranger.get(confirm).status_code == 200
    db_session.refresh(world.g1)
    assert world.g1.email == "g1@family.test"
    assert new_browser().login("g1@family.test").status_code == 302  # the old one still signs in

    assert stranger.post(confirm).headers["Location"] == "/login"
    db_session.refresh(world.g1)
    assert world.g1.email == "gwen@new.test"
    assert stranger.get(confirm).status_code == 404  # single use
    assert new_browser().login("gwen@new.test").status_code == 302


def test_the_old_address_cancels_a_waiting_change_and_undoes_a_confirmed_one(
    new_browser: Callable[[], Browser], world: World, db_session: Session
) -> None:
    _ask_for(new_browser(), "thief@evil.test")
    confirm = _link_in(db_session, "thief@evil.test", "confirm")
    cancel = _link_in(db_session, "g1@family.test", "cancel")
    owner = new_browser()
    assert owner.get(cancel).status_code == 200
    assert owner.post(cancel).headers["Location"] == "/login"
    assert owner.get(confirm).status_code == 404  # the waiting change is gone
    db_session.refresh(world.g1)
    assert world.g1.email == "g1@family.test"

    thief = new_browser()
    _ask_for(thief, "thief@evil.test")
    confirm = _link_in(db_session, "thief@evil.test", "confirm")
    cancel = _link_in(db_session, "g1@family.test", "cancel")
    assert thief.post(confirm).status_code == 302  # confirmed by whoever holds the new inbox
    db_session.refresh(world.g1)
    assert world.g1.email == "thief@evil.test"
    assert thief.get(f"/family/{world.case1.id}").status_code == 200
    owner.post(cancel)
    db_session.refresh(world.g1)
    assert world.g1.email == "g1@family.test"
    signed_out = thief.get(f"/family/{world.case1.id}")
    assert signed_out.headers["Location"].startswith("/login")  # every device signed out


def test_an_expired_or_taken_address_link_changes_nothing(
    new_browser: Callable[[], Browser], world: World, db_session: Session
) -> None:
    browser = new_browser()
    _ask_for(browser, "gwen@new.test")
    confirm = _link_in(db_session, "gwen@new.test", "confirm")
    with time_machine.travel(utcnow() + timedelta(hours=25), tick=False):
        assert new_browser().get(confirm).status_code == 404
    taken = browser.post("/account/email", {"email": "g2@family.test"})
    assert taken.status_code == 422  # someone's sign-in: refused, what was typed kept
    assert 'value="g2@family.test"' in taken.get_data(as_text=True)
    assert outbox_to(db_session, "g2@family.test") == []


def test_AU05_a_post_to_the_email_change_with_a_stale_sign_in_changes_nothing(
    browser: Browser, world: World, db_session: Session
) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False):
        browser.login("g1@family.test")
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        response = browser.post("/account/email", {"email": "thief@evil.test"})
        assert response.status_code == 302 and "/account/confirm" in response.headers["Location"]
    db_session.refresh(world.g1)
    assert world.g1.email == "g1@family.test"


# AU-04 and AU-06 ---------------------------------------------------------------------------------


CSRF_VALUE = r'(name="csrf_token" type="hidden" value=|"X-CSRFToken": )"[^"]+"'


def ask_reset(browser: Browser, email: str) -> Any:
    browser.get("/account/forgot")
    return browser.post("/account/forgot", {"email": email})


def test_AU04_forgot_password_answers_the_same_whether_or_not_the_address_exists(
    new_browser: Callable[[], Browser], world: World, db_session: Session
) -> None:
    answers = {}
    for email in ("g1@family.test", "nobody@family.test"):
        browser = new_browser()
        response = ask_reset(browser, email)
        page = browser.get(response.headers["Location"])
        body = re.sub(CSRF_VALUE, "", page.text)
        answers[email] = (response.status_code, response.headers["Location"], body)
    assert answers["g1@family.test"] == answers["nobody@family.test"]
    assert len(outbox_to(db_session, "g1@family.test")) == 1
    assert outbox_to(db_session, "nobody@family.test") == []


def test_AU04_forgot_password_takes_as_long_for_an_unknown_address(
    new_browser: Callable[[], Browser], world: World
) -> None:
    browser = new_browser()
    browser.get("/account/forgot")
    token = browser.ensure_token()
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    for n in range(10):  # 10 a side keeps under the 10-an-hour limit per address below
        for kind, email in (("known", "g1@family.test"), ("unknown", f"nobody{n}@family.test")):
            start = time.perf_counter()
            response = browser.client.post(
                "/account/forgot",
                data={"email": email, "csrf_token": token},
                environ_base={"REMOTE_ADDR": f"10.1.{n}.{len(kind)}"},
            )
            timings[kind].append(time.perf_counter() - start)
            assert response.status_code == 302
    gap = abs(statistics.median(timings["known"]) - statistics.median(timings["unknown"]))
    assert gap < 0.050, f"median gap {gap * 1000:.1f} ms"


def test_AU06_a_reset_link_is_random_hashed_single_use_and_ends_every_session(
    browser: Browser,
    new_browser: Callable[[], Browser],
    world: World,
    db_session: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    other_device = new_browser()
    other_device.login("g1@family.test")
    caplog.set_level(logging.DEBUG)
    ask_reset(browser, "g1@family.test")
    (mail,) = outbox_to(db_session, "g1@family.test")
    link = re.search(r"https?://\S+", mail.body)
    assert link is not None
    token = link.group(0).rsplit("/", 1)[1]
    assert len(token) >= 43  # 32 random bytes
    stored = db_session.scalars(select(AccountToken).where(AccountToken.purpose == "reset")).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert abs(stored.expires_at - stored.created_at - timedelta(hours=1)) < timedelta(seconds=1)
    path = f"/account/reset/{token}"
    assert browser.get(path).status_code == 200
    weak = browser.post(path, {"new_password": "password1", "confirm_password": "password1"})
    assert weak.status_code == 422
    done = browser.post(path, {"new_password": NEW, "confirm_password": NEW})
    assert done.headers["Location"] == "/login"
    assert other_device.get("/family").status_code == 302  # signed out everywhere
    assert browser.get(path).status_code == 404  # single use
    again = browser.post(path, {"new_password": "another good phrase", "confirm_password": "x"})
    assert again.status_code == 404
    db_session.refresh(world.g1)
    assert verify_secret(world.g1.password_hash, NEW)
    assert token not in caplog.text
    assert "password_reset" in audit_actions(db_session, world.g1)
    assert len(outbox_to(db_session, "g1@family.test")) == 2  # the link, then "was reset"


def test_a_reset_link_opens_in_its_owners_language_and_the_notice_is_in_it_too(
    new_browser: Callable[[], Browser], world: World, db_session: Session
) -> None:
    """Issue 13: Gwen reads Rapport in Spanish; her phone's browser asks for English. The page her
    reset link opens, the sign-in page after it and the "password was reset" notice are Spanish."""
    world.g1.language = "es"
    db_session.commit()
    browser = new_browser()
    browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-US,en;q=0.9"
    ask_reset(browser, "g1@family.test")
    (mail,) = outbox_to(db_session, "g1@family.test")
    path = "/" + re.findall(r"https?://\S+", mail.body)[0].split("/", 3)[3]
    page = browser.get(path).get_data(as_text=True)
    assert '<html lang="es">' in page and "Elija una contraseña nueva" in page
    assert "Choose a new password" not in page
    done = browser.post(path, {"new_password": NEW, "confirm_password": NEW})
    assert done.headers["Location"] == "/login"
    signed_out = browser.get("/login").get_data(as_text=True)
    assert "Su contraseña se cambió. Inicie sesión con ella ahora." in signed_out
    notice = outbox_to(db_session, "g1@family.test")[-1]
    assert "Se restableció la contraseña de su cuenta de Rapport." in notice.body
    assert notice.body.startswith("Hola")


def test_AU06_a_reset_link_expires_after_an_hour(
    browser: Browser, world: World, db_session: Session
) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False):
        ask_reset(browser, "g1@family.test")
    (mail,) = outbox_to(db_session, "g1@family.test")
    path = "/" + re.findall(r"https?://\S+", mail.body)[0].split("/", 3)[3]
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        assert browser.get(path).status_code == 404
        response = browser.post(path, {"new_password": NEW, "confirm_password": NEW})
        assert response.status_code == 404


def test_AU06_a_setup_link_cannot_be_used_as_a_reset_link_or_the_reverse(
    browser: Browser, world: World, db_session: Session
) -> None:
    ask_reset(browser, "g1@family.test")
    (mail,) = outbox_to(db_session, "g1@family.test")
    token = re.findall(r"https?://\S+", mail.body)[0].rsplit("/", 1)[1]
    assert browser.get(f"/account/setup/{token}").status_code == 404


# AU-07 -------------------------------------------------------------------------------------------


def test_AU07_production_refuses_to_start_on_a_database_with_the_demo_accounts(
    tmp_path: Path,
) -> None:
    from flask_migrate import upgrade

    from portal import db
    from portal.demo import DemoAccountsInProduction, load_demo_clinic

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    development = create_app(
        {"TESTING": True, "PORTAL_ENV": "test", "DATABASE_URL": url, "SECRET_KEY": "x" * 40}
    )
    production_config = {
        "PORTAL_ENV": "production",
        "DATABASE_URL": url,
        "SECRET_KEY": "0123456789abcdef" * 4,
        "PORTAL_BASE_URL": "https://portal.test",
    }
    with development.app_context():
        upgrade(revision="heads")
    create_app(production_config)  # an empty, migrated database starts
    with development.app_context():
        load_demo_clinic()
        db.session.commit()
    with pytest.raises(DemoAccountsInProduction, match="demo clinic"):
        create_app(production_config)
    # Another process is writing when the app starts (a migration, a second server's request):
    # the check still reads the users and refuses. It once queued behind the writer for SQLite's
    # busy timeout, took the timeout for "no database" and let the demo accounts through.
    writer = sqlite3.connect(tmp_path / "demo.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DemoAccountsInProduction, match="demo clinic"):
            create_app(production_config)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    development.extensions["rapport_db"].engine.dispose()


def test_AU07_demo_data_refuses_to_run_in_production(make_app: Any) -> None:
    production = make_app(production=True)
    result = production.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code != 0
    assert "never loaded in production" in result.output


# AU-08 -------------------------------------------------------------------------------------------


def test_AU08_a_therapist_is_only_half_signed_in_until_the_code(
    browser: Browser, world: World
) -> None:
    assert half_sign_in(browser, "t1@clinic.test") == "/login/code"
    for page in ("/caseload", f"/cases/{world.case1.id}", "/account/password", "/"):
        response = browser.get(page)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert browser.get("/login/code").status_code == 200
    response = browser.post("/login/code", {"code": code()})
    assert response.headers["Location"] == "/caseload"
    assert browser.get("/caseload").status_code == 200


def test_AU08_guardians_have_no_second_step(browser: Browser, world: World) -> None:
    assert half_sign_in(browser, "g1@family.test") == "/family"
    assert browser.get(f"/family/{world.case1.id}").status_code == 200
    assert browser.get("/login/code").headers["Location"] == "/login"


def test_AU08_a_code_works_once(
    browser: Browser, new_browser: Callable[[], Browser], world: World
) -> None:
    now_code = code()
    half_sign_in(browser, "t1@clinic.test")
    assert browser.post("/login/code", {"code": now_code}).status_code == 302
    other = new_browser()
    half_sign_in(other, "t1@clinic.test")
    replay = other.post("/login/code", {"code": now_code})
    assert replay.status_code == 422
    assert "That code did not work" in replay.get_data(as_text=True)
    assert other.get("/caseload").status_code == 302


@pytest.mark.parametrize(("offset", "works"), [(-2, False), (-1, True), (1, True), (2, False)])
def test_AU08_one_step_of_30_seconds_either_side(
    browser: Browser, world: World, offset: int, works: bool
) -> None:
    start = utcnow().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        half_sign_in(browser, "t1@clinic.test")
        response = browser.post("/login/code", {"code": code(step_offset=offset)})
    assert (response.status_code == 302) is works


def test_AU08_a_wrong_code_keeps_the_half_sign_in_and_says_so(
    browser: Browser, world: World
) -> None:
    half_sign_in(browser, "t1@clinic.test")
    wrong = wrong_code()
    response = browser.post("/login/code", {"code": wrong})
    assert response.status_code == 422
    assert f'value="{wrong}"' in response.get_data(as_text=True)
    assert browser.post("/login/code", {"code": code()}).status_code == 302


def test_AU08_code_guesses_are_throttled_and_even_the_right_code_waits(
    browser: Browser, world: World
) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False):
        half_sign_in(browser, "t1@clinic.test")
        wrong = wrong_code()
        answers = [browser.post("/login/code", {"code": wrong}).status_code for _ in range(5)]
        assert answers == [422] * 5
        assert browser.post("/login/code", {"code": code()}).status_code == 429
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert browser.post("/login/code", {"code": code()}).status_code == 302


def test_AU08_the_half_sign_in_lapses_after_ten_minutes(browser: Browser, world: World) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False):
        half_sign_in(browser, "t1@clinic.test")
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        response = browser.post("/login/code", {"code": code()})
        assert response.headers["Location"] == "/login"


def test_AU08_enrolment_shows_the_secret_once_and_gives_ten_hashed_recovery_codes(
    browser: Browser, new_browser: Callable[[], Browser], world: World, db_session: Session
) -> None:
    t1 = world.t1
    t1.totp_secret = t1.totp_enrolled_at = None
    db_session.commit()
    assert half_sign_in(browser, "t1@clinic.test") == "/login/enrol"
    assert browser.get("/caseload").status_code == 302
    db_session.refresh(t1)
    secret = t1.totp_secret
    assert secret is not None and len(secret) == 32
    page = browser.get("/login/enrol").get_data(as_text=True)
    assert " ".join(secret[i : i + 4] for i in range(0, 32, 4)) in page
    assert "otpauth://totp/Rapport:t1%40clinic.test?secret=" + secret in page
    qr = browser.get("/login/enrol/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    assert browser.post("/login/enrol", {"code": "12345"}).status_code == 422
    done = browser.post("/login/enrol", {"code": code(secret=secret)})
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code>", done.text)
    assert len(set(codes)) == 10
    assert browser.get("/caseload").status_code == 200
    stored = set(db_session.scalars(select(RecoveryCode.code_hash)))
    assert len(stored) == 10 and not any(c in h for c in codes for h in stored)
    assert browser.get("/login/enrol/qr.svg").status_code == 404  # nothing shown again
    assert "mfa_enrol" in audit_actions(db_session, t1)

    # A recovery code signs in once, instead of the app.
    phone_lost = new_browser()
    half_sign_in(phone_lost, "t1@clinic.test")
    assert phone_lost.post("/login/code", {"code": codes[3].upper()}).status_code == 302
    again = new_browser()
    half_sign_in(again, "t1@clinic.test")
    assert again.post("/login/code", {"code": codes[3]}).status_code == 422
    used = db_session.scalar(
        select(func.count()).select_from(RecoveryCode).where(RecoveryCode.used_at.is_not(None))
    )
    assert used == 1
    assert "mfa_recovery_code" in audit_actions(db_session, t1)


def test_AU08_the_code_step_gives_a_new_session_token(
    browser: Browser, world: World, db_session: Session
) -> None:
    half_sign_in(browser, "t1@clinic.test")
    with browser.client.session_transaction() as cookie:
        pending_token = cookie["sid"]
    browser.post("/login/code", {"code": code()})
    with browser.client.session_transaction() as cookie:
        assert cookie["sid"] != pending_token
    open_sessions = db_session.scalars(
        select(AuthSession).where(
            AuthSession.user_id == world.t1.id, AuthSession.ended_at.is_(None)
        )
    ).all()
    assert [s.second_factor_pending for s in open_sessions] == [False]


def test_AU08_an_admin_resets_a_lost_authenticator_from_the_command_line(
    app: Flask, browser: Browser, world: World, db_session: Session
) -> None:

    browser.login("t1@clinic.test")
    with app.app_context(), db.bound(db_session):  # the command runs in this test's transaction
        result = app.test_cli_runner().invoke(args=["reset-second-factor", "T1@clinic.test"])
    assert result.exit_code == 0, result.output
    assert browser.get("/caseload").status_code == 302  # signed out everywhere
    db_session.refresh(world.t1)
    assert world.t1.totp_secret is None and world.t1.totp_enrolled_at is None
    assert db_session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    assert half_sign_in(browser, "t1@clinic.test") == "/login/enrol"
    reset = db_session.scalars(select(AuditLog).where(AuditLog.action == "mfa_reset")).one()
    assert reset.object_id == world.t1.id and reset.actor_role == "system"
    nobody = app.test_cli_runner().invoke(args=["reset-second-factor", "g1@family.test"])
    assert nobody.exit_code != 0 and "No therapist" in nobody.output


def test_AU08_a_new_therapist_sets_a_password_of_15_then_sets_up_the_authenticator(
    browser: Browser, world: World, db_session: Session
) -> None:
    newcomer = User(
        role=Role.THERAPIST, clinic_id=world.clinic.id, email="new@clinic.test", display_name="Dr N"
    )
    db_session.add(newcomer)
    db_session.flush()
    token = account_link(db_session, newcomer, "setup", timedelta(days=3))
    path = f"/account/setup/{token}"
    browser.get(path)
    short = browser.post(
        path, {"new_password": "only 14 chars!", "confirm_password": "only 14 chars!"}
    )
    assert short.status_code == 422 and "at least 15 characters" in short.text
    browser.auto_second_step = False
    done = browser.post(path, {"new_password": NEW, "confirm_password": NEW})
    assert done.headers["Location"] == "/login/enrol"
    page = browser.get("/login/enrol")
    assert "Your password is set." in page.text
    assert browser.get("/caseload").status_code == 302


def test_AU05_password_confirmation_guesses_are_throttled(browser: Browser, world: World) -> None:
    browser.login("g1@family.test")
    browser.get("/account/confirm")
    answers = [
        browser.post("/account/confirm", {"password": "wrong guess here"}).status_code
        for _ in range(6)
    ]
    assert answers == [422] * 5 + [429]
