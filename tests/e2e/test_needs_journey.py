"""Issue 13: a guardian signs in and sees at once what needs them; one tap does it; it is gone and
the badge in the navigation drops. On a phone (390x844), photographed on phone and laptop."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, shoot
from tests.e2e.test_journeys import sign_in

CARLA = "carla@demo.rapport.test"
ANA = "ana@demo.rapport.test"


def _badge(page: Page) -> int:
    text = page.locator("#nav-needs .count").all_inner_texts()
    return int(text[0]) if text else 0


def test_carla_answers_leos_plan_version_2_first(new_page: Callable[[], Page]) -> None:
    carla = new_page()
    carla.set_viewport_size(PHONE)
    sign_in(carla, CARLA)
    first = carla.locator("#needs .need").first
    expect(first).to_contain_text("Version 2 of Leo's plan waits for your answer")
    before = _badge(carla)
    assert before >= 1
    shoot(carla, "needs-carla")
    first.get_by_role("link", name="Read and answer").click()
    carla.get_by_label("I accept this plan").check()
    carla.get_by_role("button", name="Send my answer").click()
    expect(carla.get_by_role("heading", name="Version 2 is proposed")).to_be_visible()
    expect(carla.get_by_text("A new version is waiting for your answer")).to_have_count(0)
    carla.get_by_role("link", name="My family").click()
    expect(carla.locator("#needs")).not_to_contain_text("Leo's plan waits for your answer")
    assert _badge(carla) == before - 1
    shoot(carla, "needs-carla-done")


def test_ana_confirms_mayas_reward_from_the_top_of_her_page(new_page: Callable[[], Page]) -> None:
    ana = new_page()
    ana.set_viewport_size(PHONE)
    sign_in(ana, ANA)
    first = ana.locator("#needs .need").first
    expect(first).to_contain_text("Maya asked for a reward: “Cupcake after school”")
    before = _badge(ana)
    assert before >= 1
    shoot(ana, "needs-ana")
    first.get_by_role("button", name="Confirm it was given").click()
    expect(ana.get_by_text("Confirmed: Maya got “Cupcake after school”.")).to_be_visible()
    expect(ana.locator("#needs")).not_to_contain_text("Cupcake after school")
    assert _badge(ana) == before - 1
    if before == 1:
        expect(ana.get_by_text("Nothing needs you today.")).to_be_visible()
    shoot(ana, "needs-ana-done")
