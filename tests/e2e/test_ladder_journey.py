"""The goal tracker in a real browser on a phone (390x844): Leo logs a practice on the fear
thermometer and sees his tokens; his father sees it on the family page; Dr. Rivera sees it on her
caseload. Maya (6, child mode) and Sam (14) are photographed on their own ladder screens too."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from portal.demo import DEMO_PASSWORD, LEO_PIN
from tests.e2e.conftest import PHONE, kids_sign_in, shoot, sign_in

STEP = "Watch a dog on a lead across the park"
OUTCOME = "A big dog walked right past and nothing happened"


def _phone(new_page: Callable[[], Page]) -> Page:
    page = new_page()
    page.set_viewport_size(PHONE)
    return page


def _tap(page: Page, legend: str, value: int) -> None:
    page.locator("fieldset.thermometer", has=page.locator("legend", has_text=legend)).locator(
        f"label.thermo-{value}"
    ).click()


def test_leo_logs_a_practice_his_father_and_his_therapist_see_it(
    new_page: Callable[[], Page],
) -> None:
    leo = _phone(new_page)
    kids_sign_in(leo, "leo", LEO_PIN)
    leo.get_by_role("link", name="My brave ladder").click()
    expect(leo.get_by_role("heading", name="My brave ladder")).to_be_visible()
    jar = leo.locator(".jar-count strong")
    tokens_before = int(jar.inner_text())
    shoot(leo, "ladder-leo")

    leo.get_by_role("link", name=f"Log a try: {STEP}").click()
    expect(leo.get_by_role("heading", name=STEP)).to_be_visible()
    leo.get_by_label("What I think will happen").fill("The dog will run at me")
    _tap(leo, "Before", 5)
    _tap(leo, "Worst moment", 4)
    _tap(leo, "After", 1)
    leo.get_by_label("What really happened").fill(OUTCOME)
    leo.get_by_label("How many minutes?").fill("15")
    leo.get_by_label("Who helped?").select_option(label="David (Dad's house)")
    shoot(leo, "practice-thermometer-leo")
    leo.get_by_role("button", name="Save my practice").click()

    expect(leo.get_by_text("Saved! You earned 4 tokens for your jar.")).to_be_visible()
    expect(jar).to_have_text(str(tokens_before + 4))
    shoot(leo, "ladder-leo-after-practice")

    david = _phone(new_page)  # David reads Rapport in Spanish (issue 8); the family's words stay
    sign_in(david, "david@demo.rapport.test")
    latest = david.get_by_role("region", name="Última práctica valiente")
    expect(latest).to_contain_text(STEP)
    expect(latest).to_contain_text("peor momento 4/10")
    expect(latest).to_contain_text("con David (Casa de papá)")
    shoot(david, "family-page-david")
    david.get_by_role("link", name="Práctica y premios").click()
    expect(david.get_by_role("heading", name="Práctica valiente de Leo")).to_be_visible()
    expect(david.locator("#practice-log")).to_contain_text(OUTCOME)
    expect(david.locator("svg.chart-svg").first).to_be_visible()
    shoot(david, "progress-david")

    rivera = _phone(new_page)
    sign_in(rivera, "rivera@demo.rapport.test")
    # Issue 14: the caseload is a work queue; Leo's entry shows his practice this week.
    row = rivera.get_by_role("listitem").filter(
        has=rivera.get_by_role("link", name="Leo Martin", exact=True)
    )
    expect(row).to_contain_text("tries")
    shoot(rivera, "caseload-practice")
    row.get_by_role("link", name="tries for Leo").click()
    expect(rivera.locator("#practice-log .practice-entry").first).to_contain_text(OUTCOME)
    rivera.locator("#practice-log .practice-entry").first.get_by_text("Send a cheer").click()
    rivera.locator("#practice-log .practice-entry").first.get_by_label("A line of praise").fill(
        "You stayed for 15 minutes. Brilliant!"
    )
    rivera.locator("#practice-log .practice-entry").first.get_by_role(
        "button", name="Send cheer"
    ).click()
    # Shown on the page and read out by the page's live region (the same words: two elements).
    cheered = "Cheer sent. Leo sees it next time."
    expect(rivera.locator("p.flash", has_text=cheered)).to_be_visible()
    expect(rivera.locator("#announcer")).to_have_text(cheered)
    shoot(rivera, "progress-rivera")

    leo.goto("/me/ladder")
    cheers = leo.get_by_role("region", name="Cheers for you!")
    expect(cheers).to_contain_text("You stayed for 15 minutes. Brilliant!")
    shoot(leo, "ladder-leo-cheer")


def test_maya_climbs_with_pictures_in_child_mode(new_page: Callable[[], Page]) -> None:
    page = _phone(new_page)
    sign_in(page, "ana@demo.rapport.test", DEMO_PASSWORD)
    page.get_by_role("button", name="Open Maya's screen").click()
    page.get_by_role("link", name="My brave ladder").click()
    expect(page.get_by_text("Start at the bottom and climb up!")).to_be_visible()
    shoot(page, "ladder-maya")
    # Her current step (another journey of this server may have moved her up since the demo
    # was loaded): the one link that says "Try it" and the step's title.
    here = page.locator("li.rung-here")
    title = here.locator(".rung-title").inner_text()
    page.get_by_role("link", name=f"Try it: {title}").click()
    page.get_by_role("button", name="Not scared").click()
    page.get_by_role("button", name="I had my go").click()
    page.get_by_role("button", name="Not scared").click()
    shoot(page, "practice-faces-maya")
    page.get_by_role("button", name="I did it all").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("You did it!")
    shoot(page, "ladder-maya-after-practice")


def test_sam_sees_his_compact_ladder_and_who_can_see_his_notes(
    new_page: Callable[[], Page],
) -> None:
    page = _phone(new_page)
    kids_sign_in(page, "sam", DEMO_PASSWORD)
    page.get_by_role("link", name="My practice").click()
    expect(page.get_by_text("Who can see this:")).to_be_visible()
    shoot(page, "ladder-sam")
    page.get_by_role("link", name="Log a try: Answer a question I'm sure of").click()
    expect(page.get_by_label("Keep this note private from my parents")).to_be_visible()
    shoot(page, "practice-sam")
