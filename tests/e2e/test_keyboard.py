"""Whole journeys by keyboard alone, with a focus you can see at every stop (issue 8): Leo (10)
logs a practice on the fear thermometers, Carla sends Leo's care team a message, and Dr. Rivera
reorders a problem list (an htmx swap: the move is read out and focus stays on the button).

Each person signs in with the journeys' helpers; from then on only Tab, arrows, Space, Enter and
typing. `tab_to` fails when Tab never reaches the control, or when any element it passes through
is focused without a visible outline."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from portal.demo import LEO_PIN
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import PHONE, RIVERA, kids_sign_in, sign_in

CARLA = "carla@demo.rapport.test"

# What the focused element shows: its own outline, or (for a radio drawn as its label, like a
# thermometer cell) the label's outline. Empty when the focus is visible.
_FOCUS_PROBLEM_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return 'focus is lost on <body>';
  const label = el.closest('label');
  const shown = getComputedStyle(el).opacity === '0' && label ? label : el;
  const style = getComputedStyle(shown);
  if (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) return '';
  return `${el.tagName.toLowerCase()} "${(el.innerText || el.name || el.id || '').trim()}"`
    + ' is focused without a visible outline';
}
"""


def focus_problem(page: Page) -> str:
    problem: str = page.evaluate(_FOCUS_PROBLEM_JS)
    return problem


def tab_to(page: Page, target: Locator, most: int = 40) -> None:
    page.wait_for_load_state()
    for _ in range(most):
        page.keyboard.press("Tab")
        assert focus_problem(page) == ""
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


def follow(page: Page) -> None:
    """Enter on the focused link or submit button, and wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_leo_logs_a_practice_by_keyboard_alone(new_page: Callable[[], Page]) -> None:
    page = new_page()
    page.set_viewport_size(PHONE)
    kids_sign_in(page, "leo", LEO_PIN)
    expect(page.get_by_role("heading", name="Hi Leo!")).to_be_visible()

    tab_to(page, page.get_by_role("link", name="My brave ladder"))
    follow(page)
    tokens = page.locator(".jar-count strong")
    before = int(tokens.inner_text())
    tab_to(page, page.get_by_role("link", name="Log a try: Look at dog pictures in a book"))
    follow(page)
    expect(page.get_by_role("heading", name="Look at dog pictures in a book")).to_be_visible()

    tab_to(page, page.get_by_label("What I think will happen"))
    page.keyboard.type("The dogs will look scary")
    for legend, rating in (("Before", 3), ("Worst moment", 4), ("After", 1)):
        group = page.get_by_role("group", name=legend)
        tab_to(page, group.get_by_role("radio").first)
        wanted = group.locator(f"input[value='{rating}']")
        for _ in range(12):  # arrows move along the thermometer, choosing as they go
            if wanted.is_checked():
                break
            page.keyboard.press("ArrowDown")
            assert focus_problem(page) == ""
        expect(wanted).to_be_checked()
    tab_to(page, page.get_by_label("What really happened"))
    page.keyboard.type("I found four dogs I liked")
    tab_to(page, page.get_by_role("button", name="Save my practice"))
    follow(page)

    expect(page.get_by_text("Saved! You earned")).to_be_visible()
    assert int(tokens.inner_text()) > before


def test_carla_sends_a_message_by_keyboard_alone(new_page: Callable[[], Page]) -> None:
    page = new_page()
    sign_in(page, CARLA)
    page.wait_for_url("**/family/**")
    nav = page.get_by_role("navigation", name="Main")
    tab_to(page, nav.get_by_role("link", name="Messages"))
    follow(page)
    tab_to(page, page.get_by_role("link", name="Leo's family thread"))
    follow(page)
    expect(page.get_by_role("heading", name="Leo's family thread")).to_be_visible()

    # The message list scrolls, so it is a stop on the way: arrows scroll it.
    tab_to(page, page.get_by_role("region", name="Messages", exact=True))
    text = f"Leo patted a puppy today ({uuid.uuid4().hex[:6]})"
    tab_to(page, page.get_by_label("Your message"))
    page.keyboard.type(text)
    tab_to(page, page.get_by_role("button", name="Send"))
    follow(page)
    expect(page.get_by_text("Message sent.")).to_be_visible()
    thread = page.get_by_role("region", name="Messages", exact=True)
    expect(thread.get_by_text(text)).to_be_visible()


def test_therapist_reorders_problems_by_keyboard_and_hears_the_move(
    new_page: Callable[[], Page],
) -> None:
    page = new_page()
    sign_in(page, RIVERA)
    page.goto("/caseload?q=Maya")  # the work queue puts families that need her first (issue 14)
    tab_to(page, page.get_by_role("link", name="Maya Okafor"))
    follow(page)
    tab_to(page, page.get_by_role("main").get_by_role("link", name="Problem list"))
    follow(page)
    first = page.locator(".problem-list > li").first.locator(".problem-words").inner_text()

    def move(direction: str) -> Locator:
        return page.get_by_role("button", name=re.compile(rf"{direction}\s*: {re.escape(first)}"))

    move_down = move("Move down")
    tab_to(page, move_down)
    page.keyboard.press("Enter")
    expect(page.locator("#announcer")).to_have_text(f"Moved “{first}” down.")
    expect(page.locator(".problem-list > li").nth(1)).to_contain_text(first)
    # Focus stays on the button she pressed, now one row lower, so she can press it again.
    expect(move("Move down")).to_be_focused()
    assert focus_problem(page) == ""
    assert_accessible(page, "problems-after-move")

    move_up = move("Move up")
    page.keyboard.press("Shift+Tab")
    expect(move_up).to_be_focused()
    page.keyboard.press("Enter")  # put it back where it was
    expect(page.locator(".problem-list > li").first).to_contain_text(first)
    expect(move("Move up")).to_be_focused()
