"""What people do in Rapport, in a real browser: a therapist opens a case and invites a parent, the
parent joins and gives their child a sign-in, children of each age see their own screen.

Assertions are about what a person sees on the screen. Each main page is also photographed on a
phone (390x844) and a laptop (1280x800) into test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from portal.demo import DEMO_PASSWORD, LEO_PIN
from tests.e2e.conftest import (
    ANA,
    PHONE,
    RIVERA,
    LiveServer,
    kids_sign_in,
    live_totp_code,
    shoot,
    sign_in,
)


def born_years_ago(years: int) -> date:
    """A birthday a month past the child's `years`th, so the age is stable all year."""
    last_birthday = date.today() - timedelta(days=30)
    try:
        return last_birthday.replace(year=last_birthday.year - years)
    except ValueError:  # 29 February
        return last_birthday.replace(year=last_birthday.year - years, day=28)


def test_therapist_invites_a_parent_who_joins_and_gives_the_child_a_pin(
    live_server: LiveServer, new_page: Callable[[], Page]
) -> None:
    therapist = new_page()
    therapist.goto("/login")
    expect(therapist.get_by_role("heading", name="Sign in")).to_be_visible()
    shoot(therapist, "login")

    sign_in(therapist, RIVERA)
    expect(therapist.get_by_role("heading", name="Your caseload")).to_be_visible()
    expect(therapist.get_by_role("link", name="Maya Okafor")).to_be_visible()
    shoot(therapist, "caseload")

    therapist.get_by_role("main").get_by_role("link", name="Open a case").click()
    expect(therapist.get_by_role("heading", name="Open a case")).to_be_visible()
    therapist.get_by_label("Child's first name").fill("Noor")
    therapist.get_by_label("Child's last name").fill("Haddad")
    therapist.get_by_label("Date of birth").fill(born_years_ago(9).isoformat())
    therapist.get_by_label("Main concern (short)").fill("School avoidance")
    shoot(therapist, "open-case")
    therapist.get_by_role("button", name="Open case").click()
    expect(therapist.get_by_text("Case opened for Noor. Next, invite a guardian.")).to_be_visible()
    expect(therapist.get_by_role("heading", level=1)).to_contain_text("Noor Haddad")
    expect(therapist.get_by_role("heading", level=1)).to_contain_text("9 years")
    expect(therapist.get_by_text("School avoidance")).to_be_visible()

    parent_email = "layla.haddad@example.test"
    therapist.get_by_label("Guardian's email").fill(parent_email)
    therapist.get_by_label("Relationship to the child").fill("Mother")
    therapist.get_by_label("Household").fill("Home")
    therapist.get_by_role("button", name="Send invitation").click()
    expect(therapist.get_by_text(f"Invitation sent to {parent_email}.")).to_be_visible()
    invitation = therapist.get_by_role("listitem").filter(has_text=parent_email)
    expect(invitation).to_contain_text("waiting")
    shoot(therapist, "case-page")

    # The parent reads the invitation on their own phone: a separate browser, nobody signed in.
    link = live_server.link_in_mail_to(parent_email)
    assert link.startswith(live_server.url + "/invite/")
    parent = new_page()
    parent.goto(link)
    expect(parent.get_by_role("heading", name="Join Noor's care team")).to_be_visible()
    shoot(parent, "accept-invitation")
    parent.get_by_label("Your name").fill("Layla Haddad")
    parent.get_by_label("Choose a password").fill("olive trees in spring")
    parent.get_by_label("Type it again").fill("olive trees in spring")
    parent.get_by_label("I consent to treatment").check()
    parent.get_by_label("I agree to these terms").check()
    parent.get_by_label("I understand messages are not for emergencies").check()
    parent.get_by_label("I give permission for my child to use Rapport").check()
    parent.get_by_role("button", name="Join the care team").click()

    expect(parent.get_by_text("Welcome to Noor's care team.")).to_be_visible()
    expect(parent.get_by_role("heading", level=1)).to_contain_text("Noor")
    expect(parent.get_by_text("Dr. Rosa Rivera")).to_be_visible()
    expect(parent.get_by_text("Layla Haddad — Mother (you)")).to_be_visible()
    shoot(parent, "family-page")

    parent.get_by_role("link", name="Create Noor's sign-in").click()
    expect(parent.get_by_role("heading", name="Create Noor's sign-in")).to_be_visible()
    expect(parent.get_by_text("PIN of 4 to 6 numbers")).to_be_visible()
    parent.get_by_label("Username").fill("noor")
    parent.get_by_label("PIN or password").fill("3579")
    parent.get_by_label("Type it again").fill("3579")
    shoot(parent, "child-account")
    parent.get_by_role("button", name="Create sign-in").click()
    expect(parent.get_by_text("Noor can now sign in as “noor”.")).to_be_visible()
    expect(parent.get_by_text("Noor signs in as noor.")).to_be_visible()

    parent.get_by_role("button", name="Sign out").click()
    expect(parent.get_by_text("You are signed out.")).to_be_visible()

    # Noor, on the same family device, signs in with her own PIN.
    kids_sign_in(parent, "noor", "3579")
    expect(parent.get_by_role("heading", name="Hi Noor!")).to_be_visible()
    expect(parent.get_by_text("Your grown-ups and your therapist can see")).to_be_visible()

    # Back at the clinic, the case shows the parent on the team and Noor's sign-in.
    therapist.reload()
    expect(therapist.get_by_text("Layla Haddad — Mother, Home")).to_be_visible()
    expect(therapist.get_by_text("Signs in as noor.")).to_be_visible()
    expect(invitation).to_contain_text("accepted")


def test_young_child_uses_child_mode_and_only_a_grown_up_can_leave_it(page: Page) -> None:
    sign_in(page, ANA)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Maya")
    expect(page.get_by_role("heading", level=1)).to_contain_text("6 years")
    expect(page.get_by_text("Maya uses Rapport on your device")).to_be_visible()
    shoot(page, "family-page-maya")

    page.get_by_role("button", name="Open Maya's screen").click()
    expect(page.get_by_role("heading", name="Hi Maya!")).to_be_visible()
    # Every picture on her page is something to tap (issue 15): her ladder and her plan.
    expect(page.get_by_role("link", name="My brave ladder")).to_be_visible()
    expect(page.get_by_role("link", name="My plan")).to_be_visible()
    # A six-year-old sees no grown-up menu: no sign out, no account page.
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    shoot(page, "child-maya")

    page.goto("/family")
    expect(page).to_have_url(re.compile(r"/me$"))
    expect(page.get_by_role("heading", name="Hi Maya!")).to_be_visible()

    page.get_by_role("link", name="Grown-ups: leave Maya's screen").click()
    expect(page.get_by_role("heading", name="For grown-ups")).to_be_visible()
    page.get_by_label("Grown-up's password").fill("not the password")
    page.get_by_role("button", name="Leave").click()
    expect(page.get_by_text("That is not the right password.")).to_be_visible()
    shoot(page, "child-mode-leave")

    page.goto("/family")
    expect(page.get_by_role("heading", name="Hi Maya!")).to_be_visible()
    page.get_by_role("link", name="Grown-ups: leave Maya's screen").click()
    page.get_by_label("Grown-up's password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Leave").click()
    expect(page.get_by_text("Welcome back. You left the child's screen.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Maya")
    expect(page.get_by_role("button", name="Open Maya's screen")).to_be_visible()


def test_ten_year_old_signs_in_with_a_pin(page: Page) -> None:
    page.goto("/login/kids")
    expect(page.get_by_role("heading", name="Hi! Sign in")).to_be_visible()
    shoot(page, "kids-login")

    kids_sign_in(page, "leo", LEO_PIN)
    expect(page.get_by_role("heading", name="Hi Leo!")).to_be_visible()
    expect(page.get_by_text("Your grown-ups and your therapist can see")).to_be_visible()
    shoot(page, "child-leo")


def test_teen_signs_in_with_a_password_and_is_told_who_can_see(page: Page) -> None:
    kids_sign_in(page, "sam", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Hi Sam")).to_be_visible()
    expect(page.get_by_role("heading", name="Who can see what")).to_be_visible()
    expect(page.get_by_text("Dr. Kai Chen")).to_be_visible()
    shoot(page, "child-sam")


def test_sign_in_works_with_the_keyboard_alone(page: Page) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()

    email = page.get_by_label("Email")
    for _ in range(5):  # past the header's links, whatever they are
        page.keyboard.press("Tab")
        if email.evaluate("el => el === document.activeElement"):
            break
    expect(email).to_be_focused()
    page.keyboard.type(RIVERA)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")
    code = page.get_by_label("6-digit code")  # the second step starts in its one field (AU-08)
    expect(code).to_be_focused()
    page.keyboard.type(live_totp_code(RIVERA) or "")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your caseload")).to_be_visible()


def test_a_parents_next_pages_fetch_nothing_but_themselves(
    live_server: LiveServer, new_page: Callable[..., Page]
) -> None:
    """Issue 17: the stylesheet, scripts and pictures are kept by the phone once fetched (their
    links name each file's version), so each next page is one request, not nine."""
    ana = new_page(viewport=PHONE)
    sign_in(ana, ANA)
    expect(ana.get_by_role("heading", level=1)).to_be_visible()
    before = len(live_server.static_hits)
    for path in ("/messages", "/family", "/account"):
        ana.goto(path)
        expect(ana.get_by_role("heading", level=1)).to_be_visible()
    # The tab's icon is left out: Chromium fetches it by its own means, at its own time (the first
    # page's icon may come after this page's load), outside the page's cache.
    fetched = [hit for hit in live_server.static_hits[before:] if "/favicon" not in hit]
    assert fetched == []
    # The page did get its styles and scripts: from the phone's own cache.
    assert ana.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"
    assert ana.evaluate("typeof window.htmx") == "object"
