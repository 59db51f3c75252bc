"""The second sign-in step in Chromium (AU-08): a demo therapist signs in with the published demo
authenticator secret, and a new therapist sets up an authenticator and gets recovery codes."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal import db
from portal.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from portal.models import Clinic, Role, User
from portal.passwords import hash_secret
from tests.e2e.conftest import LiveServer, live_totp_code, shoot
from tests.support.totp import authenticator_code

NEW_THERAPIST = "dr.new@demo-e2e.test"
NEW_PASSWORD = "a fresh start at willow lane"


def test_a_demo_therapist_signs_in_with_the_demo_authenticator(
    live_server: LiveServer, page: Page
) -> None:
    with live_server.app.app_context():
        rivera = db.session.scalars(
            select(User).where(User.email == "rivera@demo.rapport.test")
        ).one()
        assert rivera.totp_secret == DEMO_TOTP_SECRET  # what README publishes
    page.goto("/login")
    page.get_by_label("Email").fill("rivera@demo.rapport.test")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your sign-in code")).to_be_visible()
    shoot(page, "sign-in-code")
    page.goto("/caseload")  # half signed in: no page but the code
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/login/code")
    page.get_by_label("6-digit code").fill("000000" if code_now() != "000000" else "111111")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("That code did not work.")).to_be_visible()
    page.get_by_label("6-digit code").fill(live_totp_code("rivera@demo.rapport.test") or "")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your caseload")).to_be_visible()


def code_now() -> str:
    return authenticator_code(DEMO_TOTP_SECRET)


def test_a_new_therapist_sets_up_an_authenticator(
    live_server: LiveServer, new_page: Callable[[], Page]
) -> None:
    with live_server.app.app_context():
        clinic = db.session.scalars(select(Clinic)).first()
        assert clinic is not None
        db.session.add(
            User(
                role=Role.THERAPIST,
                clinic_id=clinic.id,
                email=NEW_THERAPIST,
                display_name="Dr. Nova New",
                password_hash=hash_secret(NEW_PASSWORD),
            )
        )
        db.session.commit()
    page = new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(NEW_THERAPIST)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Set up your sign-in codes")).to_be_visible()
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible()
    # The SVG loaded under the strict CSP: wait for it to finish loading (or fail) first, since
    # an <img> is visible as soon as it has a size, before its picture has arrived.
    loaded = qr.evaluate(
        """img => img.complete ? img.naturalWidth : new Promise(done => {
            img.addEventListener("load", () => done(img.naturalWidth));
            img.addEventListener("error", () => done(0));
        })"""
    )
    assert loaded > 0
    shoot(page, "enrol-authenticator")
    key = page.locator("code.secret").first.inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", key)
    page.get_by_label("6-digit code").fill(authenticator_code(key))
    page.get_by_role("button", name="Turn on sign-in codes").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    shoot(page, "recovery-codes")
    page.get_by_role("link", name="I have saved them — continue").click()
    expect(page.get_by_role("heading", name="Your caseload")).to_be_visible()
