"""Authentication (SECURITY 2.2) and the consent gate on children's sign-in (CO-01)."""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from portal.consent_documents import CONSENT_DOCUMENTS
from portal.db import utcnow
from portal.extensions import limiter
from portal.models import (
    AuthSession,
    ConsentAction,
    ConsentKind,
    ConsentMethod,
    ConsentRecord,
    Invitation,
    Role,
    User,
)
from portal.passwords import hash_secret, verify_secret
from portal.security import token_hash
from tests.support.browser import Browser
from tests.support.rows import PASSWORD, PIN, World, link_guardian, make_case

CSRF_VALUE = re.compile(r'(name="csrf_token" type="hidden" value=|"X-CSRFToken": )"[^"]+"')


def stored_hash(db_session: Session, user: User) -> str:
    value = db_session.scalar(select(User.password_hash).where(User.id == user.id))
    assert value is not None
    return value


def count(db_session: Session, model: Any, *where: Any) -> int:
    return db_session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def record_consent(
    db_session: Session, world: World, case_id: int, kind: ConsentKind, action: ConsentAction
) -> None:
    db_session.add(
        ConsentRecord(
            case_id=case_id,
            kind=kind,
            action=action,
            given_by_id=world.g1.id,
            recorded_by_id=world.g1.id,
            document_version=CONSENT_DOCUMENTS[kind].version,
            method=ConsentMethod.PORTAL,
        )
    )
    db_session.commit()


# AU-02 -------------------------------------------------------------------------------------------

ARGON2_HASH = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+$")


def assert_owasp_argon2id(stored: str) -> None:
    match = ARGON2_HASH.match(stored)
    assert match, f"not an argon2id hash: {stored[:20]}…"
    memory_kib, time_cost, parallelism = (int(part) for part in match.groups())
    assert memory_kib >= 19456 and time_cost >= 2 and parallelism == 1


def test_AU02_a_changed_password_is_stored_as_salted_argon2id(
    new_browser: Any, world: World, db_session: Session
) -> None:
    shared_password = "the same phrase for two people 5"
    for email in ("g1@family.test", "g2@family.test"):
        browser: Browser = new_browser()
        browser.login(email)
        response = browser.post(
            "/account/password",
            {
                "current_password": PASSWORD,
                "new_password": shared_password,
                "confirm_password": shared_password,
            },
        )
        assert response.status_code == 302

    first, second = stored_hash(db_session, world.g1), stored_hash(db_session, world.g2)
    assert_owasp_argon2id(first)
    assert_owasp_argon2id(second)
    assert first != second  # a fresh salt per hash
    assert shared_password not in first
    assert verify_secret(first, shared_password) and verify_secret(second, shared_password)


def test_AU02_a_new_guardian_password_from_an_invitation_is_argon2id(
    browser: Browser, world: World, db_session: Session
) -> None:
    token = "invitation-token-for-au02-0123456789abcdef"
    db_session.add(
        Invitation(
            case_id=world.case1.id,
            email="dad@family.test",
            token_hash=token_hash(token),
            relationship_label="Father",
            household="Dad's flat",
            has_legal_authority=False,
            can_consent=False,
            invited_by_id=world.t1.id,
            expires_at=utcnow() + timedelta(days=7),
        )
    )
    db_session.commit()
    browser.get(f"/invite/{token}")
    response = browser.post(
        f"/invite/{token}",
        {
            "display_name": "Dev Dad",
            "new_password": "a fathers long phrase 12",
            "confirm_password": "a fathers long phrase 12",
            "portal_terms": "y",
            "messaging_policy": "y",
        },
    )
    assert response.status_code == 302
    dad = db_session.scalars(select(User).where(User.email == "dad@family.test")).one()
    assert_owasp_argon2id(stored_hash(db_session, dad))


def test_AU02_the_werkzeug_default_would_not_pass() -> None:
    with pytest.raises(AssertionError):
        assert_owasp_argon2id(generate_password_hash("x"))
    assert_owasp_argon2id(hash_secret("x"))


# AU-04 -------------------------------------------------------------------------------------------


def test_AU04_the_hash_an_unknown_account_is_checked_against_costs_what_a_real_one_costs() -> None:
    """The dummy hash is written out in portal/passwords.py (hashing it at import cost every
    process 30 ms and 19 MiB, issue 17): it must carry the hasher's own parameters, so verifying
    against it takes as long as verifying a stored hash."""
    from argon2 import extract_parameters

    from portal import passwords

    dummy, hasher = extract_parameters(passwords._DUMMY_HASH), passwords._hasher()
    assert (dummy.type, dummy.time_cost, dummy.memory_cost, dummy.parallelism) == (
        hasher.type,
        hasher.time_cost,
        hasher.memory_cost,
        hasher.parallelism,
    )
    assert (dummy.salt_len, dummy.hash_len) == (hasher.salt_len, hasher.hash_len)
    assert_owasp_argon2id(passwords._DUMMY_HASH)
    assert not verify_secret(None, "not-a-real-password-for-timing-only")


def normalised(body: str, typed: str) -> str:
    return CSRF_VALUE.sub("TOKEN", body).replace(typed, "TYPED")


def test_AU04_unknown_email_and_wrong_password_get_the_same_answer(
    browser: Browser, world: World, db_session: Session
) -> None:
    db_session.execute(update(User).where(User.id == world.g2.id).values(active=False))
    db_session.commit()
    browser.get("/login")
    attempts = {
        "nobody@family.test": "some password 1",  # no such account
        "g1@family.test": "some password 1",  # wrong password
        "g2@family.test": PASSWORD,  # right password, disabled account
        "cody1": PIN,  # a child's username in the adults' form
    }
    answers = set()
    for email, password in attempts.items():
        response = browser.post("/login", {"email": email, "password": password})
        assert response.status_code == 422
        body = response.get_data(as_text=True)
        assert "That sign-in did not work." in body
        answers.add(normalised(body, email))
    assert len(answers) == 1
    assert count(db_session, AuthSession) == 0


def test_AU04_the_kids_sign_in_answers_the_same_for_unknown_names_and_wrong_pins(
    browser: Browser, world: World
) -> None:
    browser.get("/login/kids")
    answers = set()
    for username in ("nobody7", "cody1"):
        response = browser.post("/login/kids", {"username": username, "secret": "8642"})
        assert response.status_code == 422
        answers.add(normalised(response.get_data(as_text=True), username))
    assert len(answers) == 1


def test_AU04_unknown_email_takes_as_long_as_a_wrong_password(
    browser: Browser, world: World, db_session: Session
) -> None:
    world.g1.password_hash = hash_secret(PASSWORD)  # as the app stores it, at full cost
    db_session.commit()
    browser.get("/login")

    def timed(email: str) -> float:
        limiter.reset()  # this test is about timing, not throttling (AU-03 has its own)
        started = time.perf_counter()
        response = browser.post("/login", {"email": email, "password": "some password 1"})
        elapsed = time.perf_counter() - started
        assert response.status_code == 422
        return elapsed

    unknown, wrong = [], []
    for _ in range(15):  # interleaved, so load on the machine hits both alike
        unknown.append(timed("nobody@family.test"))
        wrong.append(timed("g1@family.test"))
    difference = abs(statistics.median(unknown) - statistics.median(wrong))

    started = time.perf_counter()
    for _ in range(5):
        verify_secret(hash_secret("x"), "y")
    one_hash = (time.perf_counter() - started) / 5
    # Skipping the hash for unknown accounts would show up as a whole hash's worth of time.
    assert difference < 0.050
    assert difference < one_hash * 0.6


# AU-05 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("current", ["", "not my password", PASSWORD.upper(), PASSWORD + " "])
def test_AU05_a_password_change_needs_the_current_password(
    browser: Browser, world: World, db_session: Session, current: str
) -> None:
    browser.login("g1@family.test")
    before = stored_hash(db_session, world.g1)
    new_password = "a completely new phrase 81"
    response = browser.post(
        "/account/password",
        {
            "current_password": current,
            "new_password": new_password,
            "confirm_password": new_password,
        },
    )
    assert response.status_code == 422
    assert stored_hash(db_session, world.g1) == before
    assert browser.get(f"/family/{world.case1.id}").status_code == 200


def test_AU05_with_the_current_password_the_change_takes_effect(
    browser: Browser, new_browser: Any, world: World, db_session: Session
) -> None:
    browser.login("g1@family.test")
    new_password = "a completely new phrase 81"
    response = browser.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": new_password,
            "confirm_password": new_password,
        },
    )
    assert response.status_code == 302
    other: Browser = new_browser()
    other.get("/login")
    old = other.post("/login", {"email": "g1@family.test", "password": PASSWORD})
    assert old.status_code == 422
    other.login("g1@family.test", new_password)
    assert count(db_session, User, User.password_changed_at.is_not(None), User.id == world.g1.id)


def test_AU05_signed_out_nobody_can_change_a_password(
    browser: Browser, world: World, db_session: Session
) -> None:
    before = stored_hash(db_session, world.g1)
    response = browser.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "x" * 20, "confirm_password": "x" * 20},
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert stored_hash(db_session, world.g1) == before


# AU-10 -------------------------------------------------------------------------------------------

# After Django's test_security_check, plus the browser quirks it lists.
OFF_SITE_TARGETS = [
    "http://evil.test",
    "https://evil.test",
    "//evil.test",
    "///evil.test",
    "/\\evil.test",
    "\\\\evil.test",
    "\\/evil.test",
    "https:evil.test",
    "http:/evil.test",
    "http:///evil.test",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "%2F%2Fevil.test",
    " //evil.test",
    "/\t/evil.test",
    "/\n/evil.test",
    "https://portal.test@evil.test",
    "ftp://evil.test/x",
]


@pytest.mark.parametrize("target", OFF_SITE_TARGETS)
def test_AU10_sign_in_never_redirects_off_site(browser: Browser, world: World, target: str) -> None:
    browser.get("/login")
    response = browser.post(
        "/login", {"email": "t1@clinic.test", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/caseload"


@pytest.mark.parametrize("target", ["//evil.test", "/\\evil.test", "https://evil.test"])
def test_AU10_a_next_parameter_in_the_link_is_checked_too(
    browser: Browser, world: World, target: str
) -> None:
    page = browser.get("/login?next=" + quote(target, safe=""))
    assert page.status_code == 200
    form_next = re.search(r'name="next" type="hidden" value="([^"]*)"', page.get_data(as_text=True))
    assert form_next is not None
    response = browser.post(
        "/login",
        {"email": "t1@clinic.test", "password": PASSWORD, "next": form_next.group(1)},
    )
    assert response.headers["Location"] == "/caseload"


def test_AU10_a_same_site_path_with_a_query_is_followed(browser: Browser, world: World) -> None:
    target = "/cases/3?tab=goals"
    page = browser.get("/login?next=" + quote(target, safe=""))
    assert 'value="/cases/3?tab=goals"' in page.get_data(as_text=True)
    response = browser.post(
        "/login", {"email": "t1@clinic.test", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == target


def test_AU10_a_signed_out_visit_comes_back_to_the_same_page(
    browser: Browser, world: World
) -> None:
    wanted = f"/cases/{world.case1.id}?tab=team"
    response = browser.get(wanted)
    assert response.status_code == 302
    login_page = browser.get(response.headers["Location"])
    form_next = re.search(
        r'name="next" type="hidden" value="([^"]*)"', login_page.get_data(as_text=True)
    )
    assert form_next is not None and form_next.group(1) == wanted
    back = browser.post(
        "/login", {"email": "t1@clinic.test", "password": PASSWORD, "next": form_next.group(1)}
    )
    assert back.headers["Location"] == wanted


# AU-09 -------------------------------------------------------------------------------------------

# Every door that opens without signing in. A new one must be reviewed: none may create a child.
# The language picker is public too: signed out it only sets a cookie (no account, no data).
PUBLIC_ENDPOINTS = {
    "auth.login",
    "auth.kids_login",
    "auth.setup_account",
    "invitations.accept",
    # The second sign-in step (a half sign-in held on the server) and password reset (AU-06).
    "auth.second_step",
    "auth.enrol",
    "auth.enrol_qr",
    "auth.forgot_password",
    "auth.reset_password",
    "auth.set_language",
    # Our service worker's code (issue 15): a static script like /static/, holding no data, at
    # the site's root so that it may look after /me.
    "ladders.service_worker",
    # Issue 13: the single-use links of an email change (confirm at the new address, cancel from
    # the old one), a calendar app's private feed (its own revocable token, session times only),
    # the accessibility statement and the favicon.
    "auth.confirm_email",
    "auth.cancel_email_change",
    "calendar.feed",
    "about.accessibility",
    "about.favicon",
}


def test_AU09_the_only_public_doors_are_sign_in_and_single_use_links(app: Flask) -> None:
    public = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, "is_public", False)
    }
    assert public == PUBLIC_ENDPOINTS


@pytest.mark.parametrize(
    "path",
    ["/signup", "/register", "/join", "/kids/signup", "/login/kids/register", "/children/new"],
)
def test_AU09_there_is_no_sign_up_page(browser: Browser, path: str) -> None:
    assert browser.get(path).status_code == 404
    response = browser.post(path, {"username": "newkid", "secret": "2468", "role": "child"})
    assert response.status_code == 404


def test_AU09_the_kids_sign_in_never_creates_an_account(
    browser: Browser, world: World, db_session: Session
) -> None:
    children_before = count(db_session, User, User.role == Role.CHILD)
    browser.get("/login/kids")
    response = browser.post(
        "/login/kids", {"username": "brand-new-kid", "secret": "2468", "role": "child"}
    )
    assert response.status_code == 422
    assert count(db_session, User, User.role == Role.CHILD) == children_before


def test_AU09_accepting_an_invitation_makes_a_guardian_whatever_the_form_says(
    browser: Browser, world: World, db_session: Session
) -> None:
    token = "invitation-token-for-au09-0123456789abcdef"
    db_session.add(
        Invitation(
            case_id=world.case1.id,
            email="kid.pretending@family.test",
            token_hash=token_hash(token),
            relationship_label="Aunt",
            household="Aunt's",
            has_legal_authority=False,
            can_consent=False,
            invited_by_id=world.t1.id,
            expires_at=utcnow() + timedelta(days=7),
        )
    )
    db_session.commit()
    browser.get(f"/invite/{token}")
    response = browser.post(
        f"/invite/{token}",
        {
            "display_name": "Someone",
            "new_password": "a long enough phrase 3",
            "confirm_password": "a long enough phrase 3",
            "portal_terms": "y",
            "messaging_policy": "y",
            "role": "child",
            "username": "sneaky",
        },
    )
    assert response.status_code == 302
    created = db_session.scalars(
        select(User).where(User.email == "kid.pretending@family.test")
    ).one()
    assert created.role is Role.GUARDIAN and created.username is None


def test_AU09_a_child_account_needs_consent_first(
    new_browser: Any, world: World, db_session: Session
) -> None:
    case3 = make_case(db_session, world.clinic, world.t1, first="Nia", last="Three", age=10)
    link_guardian(db_session, case3, world.g1, consent=False)
    db_session.commit()
    form = {"username": "nia3", "secret": "2468", "confirm": "2468"}
    url = f"/cases/{case3.id}/child-account"

    for email in ("g1@family.test", "t1@clinic.test"):
        browser: Browser = new_browser()
        browser.login(email)
        assert browser.get(url).status_code == 404
        assert browser.post(url, form).status_code == 404
    assert count(db_session, User, User.username == "nia3") == 0

    for kind in (ConsentKind.TREATMENT, ConsentKind.PARENTAL_CONSENT_UNDER_13):
        record_consent(db_session, world, case3.id, kind, ConsentAction.GRANTED)
    guardian: Browser = new_browser()
    guardian.login("g1@family.test")
    assert guardian.post(url, form).status_code == 303
    child = db_session.scalars(select(User).where(User.username == "nia3")).one()
    assert child.role is Role.CHILD


# CO-01 -------------------------------------------------------------------------------------------


def test_CO01_a_child_whose_treatment_consent_was_withdrawn_cannot_sign_in(
    browser: Browser, world: World, db_session: Session
) -> None:
    record_consent(db_session, world, world.case1.id, ConsentKind.TREATMENT, ConsentAction.REVOKED)
    browser.get("/login/kids")
    response = browser.post("/login/kids", {"username": "cody1", "secret": PIN})
    assert response.status_code == 422
    assert "not ready yet" in response.get_data(as_text=True)
    assert count(db_session, AuthSession, AuthSession.user_id == world.c1.id) == 0


def test_CO01_withdrawing_consent_closes_the_childs_open_screen(
    browser: Browser, world: World, db_session: Session
) -> None:
    browser.login("cody1", PIN)
    assert browser.get("/me").status_code == 200
    record_consent(db_session, world, world.case1.id, ConsentKind.TREATMENT, ConsentAction.REVOKED)
    assert browser.get("/me").status_code == 404


def test_CO01_without_parental_consent_an_under_13_cannot_sign_in(
    browser: Browser, world: World, db_session: Session
) -> None:
    record_consent(
        db_session,
        world,
        world.case1.id,
        ConsentKind.PARENTAL_CONSENT_UNDER_13,
        ConsentAction.REVOKED,
    )
    browser.get("/login/kids")
    response = browser.post("/login/kids", {"username": "cody1", "secret": PIN})
    assert response.status_code == 422
    assert count(db_session, AuthSession, AuthSession.user_id == world.c1.id) == 0


def test_CO01_consent_given_again_lets_the_child_back_in(
    browser: Browser, world: World, db_session: Session
) -> None:
    record_consent(db_session, world, world.case1.id, ConsentKind.TREATMENT, ConsentAction.REVOKED)
    record_consent(db_session, world, world.case1.id, ConsentKind.TREATMENT, ConsentAction.GRANTED)
    browser.login("cody1", PIN)
    assert browser.get("/me").status_code == 200
