"""Dr. Rivera's ten minutes on her phone (issue 14): the caseload puts the family with the rupture
at the top and says why; she opens that feedback, answers it, and the family leaves "Needs
attention". Search and filter live in the URL, so the back button returns to the last view."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, shoot, sign_in

NORA_SAID = "We ran out of time again"
RIVERA_ANSWERS = (
    "Thank you, Nora. Next session starts with bedtime, and I will keep the last ten minutes "
    "for your questions."
)


def test_rivera_answers_the_rupture_at_the_top_and_the_family_leaves_needs_attention(
    new_page: Callable[..., Page],
) -> None:
    rivera = new_page(viewport=PHONE)
    sign_in(rivera, "rivera@demo.rapport.test")
    rivera.goto("/caseload")
    # The navigation keeps to one line on a phone; the rest is under "More", without JavaScript.
    nav = rivera.get_by_role("navigation", name="Main")
    assert (nav.bounding_box() or {"height": 999})["height"] <= 60
    nav.get_by_text("More").click()
    expect(nav.get_by_role("link", name="Open a case")).to_be_visible()
    nav.get_by_text("More").click()
    top = rivera.locator("li.queue-row").first
    expect(top.locator(".queue-name")).to_have_text("Ivy Brennan")
    # The first family and why it is first are on the first screen, under the controls.
    why = top.locator(".queue-why").bounding_box() or {"y": 9999, "height": 0}
    assert why["y"] + why["height"] <= PHONE["height"]
    expect(top.get_by_text("Rupture or low rating")).to_be_visible()
    expect(top.get_by_text("Nora Brennan rated low")).to_be_visible()
    shoot(rivera, "caseload-queue")

    # Search answers in place (htmx) and the URL follows, so back returns to the whole list.
    rivera.get_by_label("Search by child or guardian").fill("Nakamura")
    expect(rivera).to_have_url(re.compile(r"q=Nakamura"))
    expect(rivera.locator("li.queue-row")).to_have_count(1)
    expect(rivera.locator(".queue-name")).to_have_text("Theo Nakamura")
    rivera.go_back()
    expect(rivera).to_have_url(re.compile(r"/caseload$"))
    rivera.wait_for_load_state("networkidle")  # htmx restores history with a full reload
    expect(rivera.locator(".queue-name").first).to_have_text("Ivy Brennan")

    rivera.locator("label.chip", has_text="Needs attention").click()
    expect(rivera).to_have_url(re.compile(r"filter=attention"))
    needing = rivera.locator(".queue-name")
    expect(needing.first).to_have_text("Ivy Brennan")
    expect(rivera.locator(".queue-name", has_text="Maya Okafor")).to_have_count(0)
    shoot(rivera, "caseload-needs-attention")

    rivera.get_by_role("link", name="Open the feedback for Ivy").click()
    entry = rivera.locator("li[id^=feedback-]", has_text=NORA_SAID)
    expect(entry).to_be_visible()
    entry.get_by_role("textbox").fill(RIVERA_ANSWERS)
    entry.get_by_role("button", name="Send answer").click()
    expect(rivera.get_by_text("Your answer is on the family's page.")).to_be_visible()
    expect(rivera.get_by_text("No open alerts.")).to_be_visible()

    rivera.goto("/caseload?filter=attention")
    expect(rivera.locator(".queue-name", has_text="Theo Nakamura")).to_have_count(1)
    expect(rivera.locator(".queue-name", has_text="Ivy Brennan")).to_have_count(0)


def test_rivera_prepares_for_leos_session_on_one_page(new_page: Callable[..., Page]) -> None:
    rivera = new_page()
    sign_in(rivera, "rivera@demo.rapport.test")
    rivera.goto("/caseload")
    rivera.get_by_role("link", name="Before the session for Leo").click()
    expect(rivera.get_by_role("heading", name="Before the session · Leo Martin")).to_be_visible()
    for section in ("Practice", "Check-ins after the last session", "Open items"):
        expect(rivera.get_by_role("heading", name=section, exact=True)).to_be_visible()
    expect(rivera.get_by_text("Current step:")).to_be_visible()
    expect(rivera.get_by_role("link", name=re.compile(r"overall \d+")).first).to_be_visible()
    # He feared the dog would jump at him; it walked on. Linked to the entry itself.
    predictions = rivera.locator("h3", has_text="Predictions that did not come true")
    expect(predictions).to_be_visible()
    disproved = rivera.locator("li.prediction-disproved")
    expect(disproved).to_have_count(1)
    expect(disproved).to_contain_text("The dog will jump at me")
    expect(disproved.get_by_role("link")).to_have_attribute("href", re.compile(r"#practice-\d+$"))
    # David came to the last session: named whether or not he has checked in yet (David's own
    # journey on this live server may have sent his check-in first; the unit test
    # test_a_guardian_who_came_and_has_not_checked_in_is_named covers the waiting case).
    checkins = rivera.locator(
        "section",
        has=rivera.get_by_role("heading", name="Check-ins after the last session", exact=True),
    )
    expect(checkins.get_by_text("David Martin").first).to_be_visible()
    expect(rivera.get_by_label("Agenda for the next session")).to_have_value(
        re.compile("Leo chooses the first step")
    )
    shoot(rivera, "before-session-leo")
