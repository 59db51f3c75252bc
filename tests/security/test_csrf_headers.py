"""CSRF (SECURITY 2.4), response headers (2.7), error pages, exposed files and body limits.

Routes are enumerated from `app.url_map`, so a route added later is covered without editing here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event, func, inspect, select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from portal.db import Base, utcnow
from portal.models import AccountToken, CaseTherapist, ConsentRecord, Invitation, Role
from portal.models.calendar import CalendarFeed
from portal.models.feedback import SessionMode, SessionStatus, TherapySession
from portal.security import public, token_hash
from tests.support.browser import Browser
from tests.support.rows import PASSWORD, PIN, World, link_guardian, make_case, make_user

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
NEW_PASSWORD = "a brand new phrase 2024"
INVITE_TOKEN = "invite-token-for-csrf-tests-0123456789abcdef"
SETUP_TOKEN = "setup-token-for-csrf-tests-0123456789abcdef"
RESET_TOKEN = "reset-token-for-csrf-tests-0123456789abcdef"
CONFIRM_EMAIL_TOKEN = "confirm-email-token-for-csrf-tests-0123456789"
CANCEL_EMAIL_TOKEN = "cancel-email-token-for-csrf-tests-0123456789"
FEED_TOKEN = "calendar-feed-token-for-csrf-tests-0123456789"
HTMX = {"HX-Request": "true"}

# A form each route would accept, so that a 400 can only be the missing or foreign token.
VALID_FORMS: dict[str, dict[str, str]] = {
    "auth.login": {"email": "g1@family.test", "password": PASSWORD},
    "auth.kids_login": {"username": "cody1", "secret": PIN},
    "auth.change_password": {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    },
    "auth.setup_account": {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    "invitations.accept": {
        "display_name": "Dev Dad",
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
        "portal_terms": "y",
        "messaging_policy": "y",
    },
    "cases.open_case": {
        "first_name": "Nia",
        "last_name": "Three",
        "date_of_birth": "2016-05-01",
        "concern": "Sleep",
    },
    "cases.invite_guardian": {
        "email": "aunt@family.test",
        "relationship_label": "Aunt",
        "household": "Aunt's",
    },
    "cases.add_therapist": {"email": "t2@clinic.test"},
    "cases.child_account": {"username": "nia3", "secret": "2468", "confirm": "2468"},
    "family.record_consent": {"kind": "messaging_policy", "action": "granted"},
    "feedback.set_session_status": {"status": "cancelled"},
    "child.leave": {"password": PASSWORD},
    "admin.add_therapist": {"display_name": "Dr. New", "email": "new.t@clinic.test"},
}
# Who would really send each form (for the control that a valid token is accepted).
ACTOR_BY_BLUEPRINT = {
    "auth": "g1@family.test",
    "cases": "t1@clinic.test",
    "family": "g1@family.test",
    "child": "g1@family.test",
    "admin": "a@clinic.test",
    "invitations": None,
}
ACTOR_BY_ENDPOINT = {
    "auth.login": None,
    "auth.kids_login": None,
    "auth.setup_account": None,
    "auth.change_password": "g2@family.test",  # G1 must keep the password the others sign in with
}


@pytest.fixture()
def targets(db_session: Session, world: World) -> dict[str, Any]:
    """Real ids and tokens for every placeholder in the URL map."""
    db_session.add(
        Invitation(
            case_id=world.case1.id,
            email="dad@family.test",
            token_hash=token_hash(INVITE_TOKEN),
            relationship_label="Father",
            household="Dad's flat",
            has_legal_authority=False,
            can_consent=False,
            invited_by_id=world.t1.id,
            expires_at=utcnow() + timedelta(days=7),
        )
    )
    newcomer = make_user(
        db_session, Role.THERAPIST, "Dr. Nell New", email="nell@clinic.test", clinic=world.clinic
    )
    db_session.add(
        AccountToken(
            user_id=newcomer.id,
            purpose="setup",
            token_hash=token_hash(SETUP_TOKEN),
            expires_at=utcnow() + timedelta(hours=72),
        )
    )
    # The newcomer has no authenticator yet (they enrol at their first sign-in), and G1 asked
    # for a password-reset link.
    newcomer.totp_secret = newcomer.totp_enrolled_at = None
    db_session.add(
        AccountToken(
            user_id=world.g1.id,
            purpose="reset",
            token_hash=token_hash(RESET_TOKEN),
            expires_at=utcnow() + timedelta(hours=1),
        )
    )
    # A guardian who asked to change their address (issue 13: one link to confirm, one to
    # cancel; not G1 or G2, who sign in below), G1's calendar feed, and a planned session for
    # case 1's "Add to calendar".
    mover = make_user(db_session, Role.GUARDIAN, "Gail Mover", email="gail@family.test")
    for purpose, token in (
        ("email_confirm", CONFIRM_EMAIL_TOKEN),
        ("email_cancel", CANCEL_EMAIL_TOKEN),
    ):
        db_session.add(
            AccountToken(
                user_id=mover.id,
                purpose=purpose,
                token_hash=token_hash(token),
                address="gail.new@family.test",
                expires_at=utcnow() + timedelta(days=1),
            )
        )
    db_session.add(CalendarFeed(user_id=world.g1.id, token_hash=token_hash(FEED_TOKEN)))
    db_session.add(
        TherapySession(
            case_id=world.case1.id,
            starts_at=utcnow() + timedelta(days=3),
            mode=SessionMode.IN_PERSON,
            status=SessionStatus.SCHEDULED,
            attendees="",
            recorded_by_id=world.t1.id,
        )
    )
    # A child with consent but no sign-in yet, so the child-account form really renders.
    case3 = make_case(db_session, world.clinic, world.t1, first="Nia", last="Three", age=10)
    link_guardian(db_session, case3, world.g1)
    db_session.commit()
    invitation_id = db_session.scalar(
        select(Invitation.id).where(Invitation.token_hash == token_hash(INVITE_TOKEN))
    )
    therapist_link_id = db_session.scalar(
        select(CaseTherapist.id).where(CaseTherapist.case_id == world.case1.id)
    )
    return {
        "case_id": {"*": world.case1.id, "cases.child_account": case3.id},
        "invitation_id": invitation_id,
        "filename": "css/rapport.css",
        "link_id": {
            "cases.end_guardian_link": world.link1.id,
            "cases.remove_therapist": therapist_link_id,
            "cases.set_restriction": world.link1.id,
        },
        "token": {
            "auth.setup_account": SETUP_TOKEN,
            "invitations.accept": INVITE_TOKEN,
            "auth.reset_password": RESET_TOKEN,
            "auth.confirm_email": CONFIRM_EMAIL_TOKEN,
            "auth.cancel_email_change": CANCEL_EMAIL_TOKEN,
            "calendar.feed": FEED_TOKEN,
        },
    }


def url_for_rule(rule: Rule, targets: dict[str, Any]) -> str:
    """The rule's URL with real ids; an argument `targets` does not know yet gets 1, which still
    reaches the CSRF check and the view (that then answers 404, changing nothing)."""

    def fill(match: re.Match[str]) -> str:
        value = targets.get(match.group(1), 1)
        if isinstance(value, dict):
            value = value.get(rule.endpoint, value.get("*"))
        return str(value)

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", fill, rule.rule)


def routes(app: Flask, methods: set[str]) -> list[tuple[Rule, str]]:
    found = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted((rule.methods or set()) & methods)
    ]
    return sorted(found, key=lambda pair: (pair[0].rule, pair[1]))


def snapshot(db_session: Session) -> dict[str, str]:
    """A digest of every table, to prove that a request changed nothing.

    `auth_sessions.last_active_at` is left out: it is the idle timer's heartbeat (SE-03), moved by
    any signed-in request, GETs included, and it is not something a forged request can exploit.
    Every other column of auth_sessions (ended_at, child mode, ...) is compared. `audit_log` is
    left out too: recording who read what (LG-01) and who was refused (LG-07) is the one write a
    GET must make, and it is append-only.
    """
    digests = {}
    existing = set(inspect(db_session.connection()).get_table_names())
    for table in Base.metadata.sorted_tables:
        if table.name not in existing or table.name == "audit_log":
            continue
        if table.name == "audit_log":  # every read is recorded there on purpose (LG-01)
            continue
        columns = [
            column
            for column in table.columns
            if (table.name, column.name) != ("auth_sessions", "last_active_at")
        ]
        rows = db_session.execute(select(*columns).order_by(*table.primary_key.columns)).all()
        digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


# A statement that starts with a CTE (WITH ...) may write too; it counts as a write.
_WRITE_VERB = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|WITH)\b", re.I)
_TARGET = re.compile(
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+\"?(\w+)", re.I
)


@contextmanager
def write_statements() -> Iterator[list[str]]:
    """Every statement that can change a row, on any engine, while the block runs, except the
    audit trail's own rows (which `snapshot` leaves out). A request that wrote nothing else cannot
    have changed a table, so CS-02 compares the whole database only after the requests that did:
    the same proof, without a snapshot of every table after each of its ~1,800 requests. A
    statement of any other shape (a CTE, a write verb it cannot place) counts as a write."""
    seen: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not _WRITE_VERB.match(statement):
            return
        target = _TARGET.match(statement)
        if target is not None and target.group(1).lower() == "audit_log":
            return
        seen.append(" ".join(statement.split())[:80])

    event.listen(Engine, "before_cursor_execute", watch)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", watch)


def signed_in(new_browser: Any, sign_in: str, secret: str = "") -> Browser:
    browser: Browser = new_browser()
    browser.login(sign_in, secret)
    return browser


def half_signed_in(new_browser: Any, email: str) -> Browser:
    """A therapist whose password was right, with the second step still to do (AU-08)."""
    browser: Browser = new_browser()
    browser.auto_second_step = False
    browser.get("/login")
    response = browser.post("/login", {"email": email, "password": PASSWORD})
    assert response.headers["Location"] in ("/login/code", "/login/enrol")
    return browser


def assert_unchanged(before: dict[str, str], after: dict[str, str], what: str) -> None:
    changed = sorted(name for name in before if before[name] != after[name])
    assert not changed, f"{what} changed {changed}"


# CS-01 -------------------------------------------------------------------------------------------


def test_CS01_every_state_changing_route_is_enumerated(app: Flask) -> None:
    unsafe = {rule.endpoint for rule, _ in routes(app, UNSAFE_METHODS)}
    assert unsafe >= {"auth.login", "auth.logout", "cases.invite_guardian", "admin.add_therapist"}
    # If the app ever sets these, the checks below would prove nothing.
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    assert app.config.get("WTF_CSRF_CHECK_DEFAULT", True) is True


@pytest.mark.matrix  # a full crawl: every state-changing route x every person
def test_CS01_every_state_changing_route_refuses_a_missing_or_foreign_token(
    app: Flask, new_browser: Any, world: World, targets: dict[str, Any], db_session: Session
) -> None:
    clients = {
        "anonymous": new_browser(),
        "T1": signed_in(new_browser, "t1@clinic.test"),
        "A": signed_in(new_browser, "a@clinic.test"),
        "G1": signed_in(new_browser, "g1@family.test"),
        "C1": signed_in(new_browser, "cody1", PIN),
    }
    other_session = signed_in(new_browser, "t2@clinic.test")
    foreign_token = other_session.ensure_token()
    assert all(b.token != foreign_token for b in clients.values())

    before = snapshot(db_session)
    for rule, method in routes(app, UNSAFE_METHODS):
        url = url_for_rule(rule, targets)
        form = VALID_FORMS.get(rule.endpoint, {})
        for who, browser in clients.items():
            attempts = {
                "no token": browser.client.open(url, method=method, data=form),
                "no token, htmx": browser.client.open(url, method=method, data=form, headers=HTMX),
                "foreign token in form": browser.client.open(
                    url, method=method, data={**form, "csrf_token": foreign_token}
                ),
                "foreign token in header": browser.client.open(
                    url,
                    method=method,
                    data=form,
                    headers={**HTMX, "X-CSRFToken": foreign_token},
                ),
                "garbage token": browser.client.open(
                    url, method=method, data={**form, "csrf_token": "x" * 40}
                ),
            }
            for attempt, response in attempts.items():
                assert response.status_code == 400, (who, method, url, attempt)
    assert_unchanged(before, snapshot(db_session), "a request without a valid token")


@pytest.mark.matrix  # a full crawl: the same crawl with the right token
def test_CS01_control_the_same_requests_with_the_right_token_get_through(
    app: Flask, new_browser: Any, world: World, targets: dict[str, Any]
) -> None:
    for rule, method in routes(app, UNSAFE_METHODS):
        blueprint = rule.endpoint.partition(".")[0]
        default_actor = ACTOR_BY_BLUEPRINT.get(blueprint, "t1@clinic.test")
        actor = ACTOR_BY_ENDPOINT.get(rule.endpoint, default_actor)
        browser = signed_in(new_browser, actor) if actor else new_browser()
        form = {**VALID_FORMS.get(rule.endpoint, {}), "csrf_token": browser.ensure_token()}
        response = browser.client.open(url_for_rule(rule, targets), method=method, data=form)
        assert response.status_code != 400, (rule.endpoint, response.get_data(as_text=True))


# CS-02 -------------------------------------------------------------------------------------------


@pytest.mark.matrix  # a full crawl: every GET/HEAD route x nine people, page and fragment
def test_CS02_no_GET_or_HEAD_changes_the_database(
    app: Flask, new_browser: Any, world: World, targets: dict[str, Any], db_session: Session
) -> None:
    child_mode = signed_in(new_browser, "g1@family.test")
    response = child_mode.post(f"/family/{world.case1.id}/child-mode")
    assert response.headers["Location"] == "/me"
    clients = {
        "anonymous": new_browser(),
        "T1": signed_in(new_browser, "t1@clinic.test"),
        "A": signed_in(new_browser, "a@clinic.test"),
        "G1": signed_in(new_browser, "g1@family.test"),
        "G2": signed_in(new_browser, "g2@family.test"),
        "C1": signed_in(new_browser, "cody1", PIN),
        "G1 in child mode": child_mode,
        "T1 at the second step": half_signed_in(new_browser, "t1@clinic.test"),
        "a new therapist enrolling": half_signed_in(new_browser, "nell@clinic.test"),
    }
    seen_ok = set()
    before = snapshot(db_session)
    with write_statements() as written:
        # The watch sees the app's own writes: a POST that is allowed to change something.
        assert new_browser().client.get("/login").status_code == 200
        assert not written, written  # a sign-in page writes nothing but its audit row
        signed_in(new_browser, "g2@family.test")
        assert written, "the watch saw no statement of a sign-in, which writes a session row"
        before = snapshot(db_session)
        for rule, method in routes(app, {"GET", "HEAD"}):
            url = url_for_rule(rule, targets)
            for who, browser in clients.items():
                for headers in ({}, HTMX) if method == "GET" else ({},):
                    written.clear()
                    response = browser.client.open(url, method=method, headers=headers)
                    response.close()  # static files hold an open file until closed
                    assert response.status_code < 500, (who, method, url)
                    if response.status_code == 200:
                        seen_ok.add(rule.endpoint)
                    if not written:  # nothing but audit rows was written: nothing to compare
                        continue
                    after = snapshot(db_session)
                    assert_unchanged(before, after, f"{who} {method} {url} {headers} {written}")
                    before = after
    assert_unchanged(before, snapshot(db_session), "the GET and HEAD requests as a whole")
    # Every GET route whose ids `targets` knows really ran for someone, so "unchanged" is not
    # just a wall of 404s.
    get_endpoints = {
        rule.endpoint for rule, _ in routes(app, {"GET"}) if set(rule.arguments) <= set(targets)
    }
    never_ok = get_endpoints - seen_ok - {"auth.home", "family.home"}  # these only redirect
    assert not never_ok, f"no role got a 200 from {sorted(never_ok)}"


# CS-03 -------------------------------------------------------------------------------------------


def page_csrf_header(page: TestResponse) -> dict[str, str]:
    match = re.search(r"data-hx-headers='(\{[^']*\})'", page.get_data(as_text=True))
    assert match, "the page sets no data-hx-headers"
    headers: dict[str, str] = json.loads(match.group(1))
    return headers


def consent_records(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(ConsentRecord)) or 0


@pytest.mark.parametrize("header_name", ["X-CSRFToken", "X-CSRF-Token", "x-csrftoken"])
def test_CS03_the_token_in_the_base_templates_hx_headers_works_for_htmx(
    new_browser: Any, world: World, db_session: Session, header_name: str
) -> None:
    guardian = signed_in(new_browser, "g1@family.test")
    page = guardian.client.get(f"/family/{world.case1.id}")
    hx_headers = page_csrf_header(page)
    assert set(hx_headers) == {"X-CSRFToken"}
    before = consent_records(db_session)

    response = guardian.client.post(
        f"/family/{world.case1.id}/consent",
        data={"kind": "messaging_policy", "action": "granted"},
        headers={"HX-Request": "true", header_name: hx_headers["X-CSRFToken"]},
    )

    assert response.status_code == 303
    assert consent_records(db_session) == before + 1


def test_CS03_every_page_layout_carries_the_htmx_token(new_browser: Any, world: World) -> None:
    pages = {
        "anonymous": (new_browser(), "/login"),
        "T1": (signed_in(new_browser, "t1@clinic.test"), "/caseload"),
        "G1": (signed_in(new_browser, "g1@family.test"), f"/family/{world.case1.id}"),
        "C1": (signed_in(new_browser, "cody1", PIN), "/me"),
    }
    for who, (browser, url) in pages.items():
        assert page_csrf_header(browser.client.get(url))["X-CSRFToken"], who


# CS-04 and CS-05 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("referer", "status"),
    [
        ("https://portal.test/login", 302),
        (None, 400),
        ("https://evil.test/login", 400),
        ("http://portal.test/login", 400),
        ("https://portal.test.evil.test/login", 400),
    ],
)
def test_CS04_over_https_a_post_needs_a_same_origin_referer(
    browser: Browser, world: World, referer: str | None, status: int
) -> None:
    browser.get("/login", base_url="https://portal.test")
    headers = {"Referer": referer} if referer else {}
    response = browser.post(
        "/login",
        {"email": "t1@clinic.test", "password": PASSWORD},
        base_url="https://portal.test",
        headers=headers,
    )
    assert response.status_code == status


def test_CS05_no_cross_origin_access_is_granted(browser: Browser, world: World) -> None:
    evil = {"Origin": "https://evil.test"}
    for response in (
        browser.client.get("/login", headers=evil),
        browser.client.options("/login", headers={**evil, "Access-Control-Request-Method": "POST"}),
        browser.client.post("/login", headers=evil, data={"email": "x", "password": "y"}),
    ):
        assert not any(name.startswith("Access-Control-") for name, _ in response.headers.items())


# CS-06 -------------------------------------------------------------------------------------------


def test_CS06_sign_out_is_post_only(app: Flask, browser: Browser, world: World) -> None:
    browser.login("t1@clinic.test")
    response = browser.get("/logout")
    assert response.status_code == 405
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert "POST" in allowed and "GET" not in allowed
    assert browser.get("/caseload").status_code == 200  # still signed in
    assert 'action="/logout"' in browser.get("/caseload").get_data(as_text=True)


def test_CS06_sign_in_without_a_token_is_refused_even_with_the_right_password(
    browser: Browser, world: World, db_session: Session
) -> None:
    from portal.models import AuthSession

    response = browser.client.post("/login", data={"email": "t1@clinic.test", "password": PASSWORD})
    assert response.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(AuthSession)) == 0
    page = browser.get("/login").get_data(as_text=True)
    assert re.search(r'name="csrf_token" type="hidden" value="[^"]+"', page)


# HD-01 .. HD-05 ----------------------------------------------------------------------------------


@pytest.fixture()
def sample_responses(new_browser: Any, world: World) -> Iterator[dict[str, TestResponse]]:
    """Pages, fragments, redirects and error answers, signed in and not."""
    anonymous: Browser = new_browser()
    therapist = signed_in(new_browser, "t1@clinic.test")
    guardian = signed_in(new_browser, "g1@family.test")
    child = signed_in(new_browser, "cody1", PIN)
    yield {
        "login page": anonymous.client.get("/login"),
        "kids login page": anonymous.client.get("/login/kids"),
        "redirect to login": anonymous.client.get("/caseload"),
        "htmx 401": anonymous.client.get("/caseload", headers=HTMX),
        "404 page": anonymous.client.get("/no-such-page"),
        "htmx 404 fragment": guardian.client.get("/family/999999", headers=HTMX),
        "405 page": anonymous.client.get("/logout"),
        "400 page": anonymous.client.post("/login"),
        "caseload": therapist.client.get("/caseload"),
        "case page": therapist.client.get(f"/cases/{world.case1.id}"),
        "case page via htmx": therapist.client.get(f"/cases/{world.case1.id}", headers=HTMX),
        "family page": guardian.client.get(f"/family/{world.case1.id}"),
        "family page via htmx": guardian.client.get(f"/family/{world.case1.id}", headers=HTMX),
        "account page": guardian.client.get("/account/password"),
        "child page": child.client.get("/me"),
        "foreign case 404": therapist.client.get(f"/cases/{world.case2.id}"),
    }


def csp_directives(response: TestResponse) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def test_HD01_https_responses_carry_hsts(browser: Browser, world: World) -> None:
    secure = browser.client.get("/login", base_url="https://portal.test")
    hsts = secure.headers["Strict-Transport-Security"]
    max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))  # type: ignore[union-attr]
    assert max_age >= 31536000 and "includeSubDomains" in hsts


def test_HD02_every_response_has_a_strict_content_security_policy(
    sample_responses: dict[str, TestResponse],
) -> None:
    for name, response in sample_responses.items():
        csp = csp_directives(response)
        assert csp.get("script-src") == ["'self'"], name
        assert csp.get("object-src") == ["'none'"], name
        assert csp.get("base-uri") == ["'none'"], name
        assert csp.get("frame-ancestors") == ["'none'"], name
        assert csp.get("default-src") == ["'self'"], name
        assert csp.get("connect-src") == ["'self'"], name
        assert csp.get("form-action") == ["'self'"], name
        header = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in header and "unsafe-eval" not in header, name
        assert "*" not in header, name


def test_HD02_pages_use_no_inline_script_or_handlers(
    sample_responses: dict[str, TestResponse],
) -> None:
    for name, response in sample_responses.items():
        body = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), name
        assert not re.search(r"\son[a-z]+\s*=", body), name
        assert "hx-on" not in body, name


def test_HD03_nosniff_referrer_policy_no_store_and_vary(
    sample_responses: dict[str, TestResponse],
) -> None:
    for name, response in sample_responses.items():
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers["Referrer-Policy"] == "same-origin", name
        assert "no-store" in response.headers.get("Cache-Control", ""), name
        vary = ",".join(response.headers.getlist("Vary"))
        assert "HX-Request" in vary, name
        assert response.headers["X-Frame-Options"] == "DENY", name


def test_HD03_static_files_are_nosniff_too(browser: Browser) -> None:
    response = browser.client.get("/static/css/rapport.css")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def htmx_config(body: str, name: str) -> dict[str, Any]:
    match = re.search(r"<meta name=\"htmx-config\" content='(\{[^']*\})'>", body)
    assert match, f"{name}: no htmx-config meta tag"
    config: dict[str, Any] = json.loads(match.group(1))
    return config


def test_HD04_htmx_keeps_no_page_history_in_local_storage(
    app: Flask, sample_responses: dict[str, TestResponse]
) -> None:
    for name, response in sample_responses.items():
        body = response.get_data(as_text=True)
        if "<body" not in body or 300 <= response.status_code < 400:
            continue  # fragments and redirects carry no config; their pages do
        config = htmx_config(body, name)
        assert config["historyCacheSize"] == 0, name
        assert config["allowEval"] is False and config["allowScriptTags"] is False, name
        assert config["selfRequestsOnly"] is True, name


def test_HD04_only_the_base_template_loads_htmx(app: Flask) -> None:
    """So every page that runs htmx runs it with the configuration checked above."""
    from pathlib import Path

    folder = Path(app.root_path).parent / "templates"
    loaders = [
        template.relative_to(folder).as_posix()
        for template in folder.rglob("*.html")
        if re.search(r"<script|htmx_file", template.read_text())
    ]
    assert loaders == ["base.html"]


def test_HD05_signing_out_clears_the_browser(app: Flask, browser: Browser, world: World) -> None:
    browser.login("g1@family.test")
    response = browser.post("/logout")
    assert response.status_code == 302
    clear = {part.strip() for part in response.headers["Clear-Site-Data"].split(",")}
    assert {'"cache"', '"storage"'} <= clear
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    (set_cookie,) = [
        value
        for value in response.headers.getlist("Set-Cookie")
        if value.startswith(cookie_name + "=")
    ]
    assert "Expires=Thu, 01 Jan 1970" in set_cookie or "Max-Age=0" in set_cookie
    assert browser.client.get_cookie(cookie_name) is None


# CF-02 -------------------------------------------------------------------------------------------

SECRET_DETAIL = "SENTINEL_TRACE_detail /srv/rapport/portal/secret_module.py line 42"


def test_CF02_an_unexpected_error_shows_a_plain_apology(make_app: Any) -> None:
    production: Flask = make_app(production=True)

    @production.get("/test-only/boom")
    @public
    def boom() -> str:
        raise RuntimeError(SECRET_DETAIL)

    client = production.test_client()
    for headers in ({}, HTMX):
        response = client.get("/test-only/boom", headers=headers)
        assert response.status_code == 500
        body = response.get_data(as_text=True)
        assert "Something went wrong on our side" in body
        for leak in ("SENTINEL_TRACE", "Traceback", "RuntimeError", ".py", "secret_module"):
            assert leak not in body, leak
        for leak in ("Werkzeug", "Python", "Flask"):
            assert leak not in response.headers.get("Server", ""), leak
        assert "no-store" in response.headers["Cache-Control"]
        assert csp_directives(response)["script-src"] == ["'self'"]
    assert production.debug is False


def test_CF02_an_error_in_a_signed_in_page_shows_the_same_apology(
    make_app: Any, world: World
) -> None:
    production: Flask = make_app(production=True)

    @production.get("/test-only/broken-page")
    def broken_page() -> str:
        raise KeyError(SECRET_DETAIL)

    browser = Browser(production.test_client())
    browser.login("t1@clinic.test")
    response = browser.client.get("/test-only/broken-page")
    assert response.status_code == 500
    assert "SENTINEL_TRACE" not in response.get_data(as_text=True)
    assert browser.client.get("/account/password").status_code == 200  # the session survived


# CF-03 -------------------------------------------------------------------------------------------

NOT_SERVED = [
    "/.git/HEAD",
    "/.git/config",
    "/.env",
    "/instance/rapport.db",
    "/instance/secret_key",
    "/instance/",
    "/rapport.db",
    "/wsgi.py",
    "/pyproject.toml",
    "/portal/config.py",
    "/migrations/env.py",
    "/static/../wsgi.py",
    "/static/%2e%2e/wsgi.py",
    "/static/..%2fwsgi.py",
    "/static/..%5cwsgi.py",
    "/static/../instance/rapport.db",
    "/static/",
    "/static/css/",
    "/static/vendor/",
    "/console",
]


@pytest.mark.parametrize("path", NOT_SERVED)
def test_CF03_source_secrets_and_directories_are_not_served(
    new_browser: Any, world: World, path: str
) -> None:
    for browser in (new_browser(), signed_in(new_browser, "t1@clinic.test")):
        response = browser.client.get(path)
        assert response.status_code == 404, (path, response.status_code)
        body = response.get_data(as_text=True)
        assert "create_app" not in body and "SQLite format" not in body


@pytest.mark.parametrize("path", ["/", "/login", "/caseload", "/static/css/rapport.css"])
def test_CF03_trace_is_not_allowed(browser: Browser, path: str) -> None:
    response = browser.client.open(path, method="TRACE")
    assert response.status_code == 405


# IN-03 -------------------------------------------------------------------------------------------

ONE_MIB = 1024 * 1024


def form_body(token: str, fields: dict[str, str], total: int) -> bytes:
    """A urlencoded body of exactly `total` bytes, padded with filler fields under 500 kB each."""
    head = "&".join(f"{name}={value}" for name, value in {"csrf_token": token, **fields}.items())
    body = head
    filler = 0
    while len(body) < total:
        prefix = f"&filler{filler}="
        room = total - len(body) - len(prefix)
        body += prefix + "a" * max(0, min(room, 400_000))
        filler += 1
    assert len(body) == total
    return body.encode()


def test_IN03_a_body_over_one_mebibyte_is_refused(
    browser: Browser, world: World, db_session: Session
) -> None:
    token = browser.ensure_token()
    fields = {"email": "t1%40clinic.test", "password": "wrong"}
    at_limit = browser.client.post(
        "/login",
        data=form_body(token, fields, ONE_MIB),
        content_type="application/x-www-form-urlencoded",
    )
    assert at_limit.status_code == 422  # read and answered normally
    over = browser.client.post(
        "/login",
        data=form_body(token, fields, ONE_MIB + 1),
        content_type="application/x-www-form-urlencoded",
    )
    assert over.status_code == 413
    assert "too much at once" in over.get_data(as_text=True)


def test_IN03_a_signed_in_form_over_the_limit_changes_nothing(
    new_browser: Any, world: World, db_session: Session
) -> None:
    guardian = signed_in(new_browser, "g1@family.test")
    before = consent_records(db_session)
    response = guardian.client.post(
        f"/family/{world.case1.id}/consent",
        data=form_body(
            guardian.ensure_token(),
            {"kind": "messaging_policy", "action": "granted"},
            ONE_MIB + 1,
        ),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert consent_records(db_session) == before
