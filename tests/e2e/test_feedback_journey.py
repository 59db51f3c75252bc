"""The feedback loop in a real browser: Dr. Rivera records Leo's session; Carla gives low feedback
on her phone; Dr. Rivera sees the alert on her caseload and answers; Carla sees the answer on her
family page; David, Leo's other parent, never sees Carla's words."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, shoot, sign_in

CARLA_SAYS = "The homework sheet confused us and we felt rushed at the end."
RIVERA_ANSWERS = "Thank you for telling me. Next week we start with ten minutes for your questions."


def _pick(page: Page, legend: str, value: int) -> None:
    page.locator("fieldset.scale", has=page.locator("legend", has_text=legend)).locator(
        "label.scale-choice", has_text=str(value)
    ).first.click()


def test_carla_rates_low_rivera_sees_the_alert_and_answers_david_sees_nothing(
    new_page: Callable[[], Page],
) -> None:
    rivera = new_page()
    sign_in(rivera, "rivera@demo.rapport.test")
    rivera.get_by_role("link", name="Leo Martin").first.click()
    rivera.get_by_role("link", name="Sessions").click()
    yesterday = date.today() - timedelta(days=1)
    rivera.get_by_label("Date", exact=True).fill(yesterday.isoformat())
    rivera.get_by_label("Time", exact=True).fill("10:00")
    rivera.get_by_label("What happened").select_option("held")
    came = rivera.locator("fieldset.attendance").first
    came.get_by_label("Leo", exact=False).select_option("in_person")
    came.get_by_label("Carla Martin", exact=False).select_option("in_person")
    rivera.get_by_role("button", name="Save session").click()
    expect(rivera.get_by_text("Session saved.")).to_be_visible()

    carla = new_page()
    carla.set_viewport_size(PHONE)
    sign_in(carla, "carla@demo.rapport.test")
    carla.locator(".case-nav").get_by_role("link", name=re.compile(r"^Check-ins")).click()
    carla.get_by_role("link", name="Give feedback").first.click()
    _pick(carla, "I felt heard", 3)
    _pick(carla, "We worked on what matters", 5)
    _pick(carla, "The way we work", 6)
    _pick(carla, "Overall", 3)
    carla.get_by_label("Anything you want the therapist to know?").fill(CARLA_SAYS)
    shoot(carla, "feedback-give-carla")
    carla.get_by_role("button", name="Send feedback").click()
    expect(carla.get_by_text("Thank you! Your therapist will read your feedback.")).to_be_visible()

    rivera.goto("/caseload")
    leo_row = rivera.locator("li.queue-row", has_text="Leo Martin")
    expect(leo_row.get_by_text("Carla Martin rated low")).to_be_visible()
    shoot(rivera, "feedback-caseload-alert")
    leo_row.get_by_role("link", name="Open the feedback for Leo").click()
    entry = rivera.locator("li", has_text=CARLA_SAYS)
    entry.get_by_role("textbox").fill(RIVERA_ANSWERS)
    entry.get_by_role("button", name="Send answer").click()
    expect(rivera.get_by_text("Your answer is on the family's page.")).to_be_visible()
    shoot(rivera, "feedback-case-page")

    carla.goto("/family")
    said = carla.get_by_role("region", name="You said, we did")
    expect(said.get_by_text(RIVERA_ANSWERS)).to_be_visible()
    expect(said.get_by_text(CARLA_SAYS)).to_be_visible()
    shoot(carla, "feedback-answer-carla")

    david = new_page()
    sign_in(david, "david@demo.rapport.test")
    expect(david.get_by_role("heading", name="Leo", exact=False).first).to_be_visible()
    for path in ("/family", david.url + "/checkins"):
        david.goto(path)
        expect(david.get_by_text(CARLA_SAYS)).to_have_count(0)
        expect(david.get_by_text(RIVERA_ANSWERS)).to_have_count(0)
