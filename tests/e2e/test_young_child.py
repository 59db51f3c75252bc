"""A six-year-old who cannot read (issue 8): Maya logs a practice in child mode on a phone by
tapping pictures alone, and every "read it to me" button speaks its instruction aloud.

Once Ana has opened Maya's screen, the test finds every control by its role and its picture,
never by its words, as Maya does. The browser's speech synthesis is replaced in the page (before
any script runs) by a recorder of what would have been said.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import ANA, PHONE, shoot, sign_in

SPEECH_RECORDER = """
window.__spoken = [];
Object.defineProperty(window, "speechSynthesis", {
  configurable: true,
  value: {
    speak: (u) => {
      window.__spoken.push({ text: u.text, lang: u.lang });
      setTimeout(() => u.onend && u.onend(), 5);
    },
    cancel: () => {}, getVoices: () => [],
  },
});
"""


def spoken(page: Page, at_least: int = 1) -> list[str]:
    for _ in range(50):
        said: list[dict[str, str]] = page.evaluate("window.__spoken")
        if len(said) >= at_least:
            return [s["text"] for s in said]
        page.wait_for_timeout(100)
    raise AssertionError(f"only {said} was said")


def with_picture(page: Page, role: str, picture: str) -> Locator:
    """A control found by the drawing on it (static/pictures/<picture>.svg), as Maya finds it."""
    return page.get_by_role(role).filter(has=page.locator(f"img[src*='/{picture}.svg?']"))  # type: ignore[arg-type]


def stars(page: Page) -> int:
    text = page.get_by_role("region", name="My stars").locator("#jar-count").inner_text()
    match = re.search(r"\d+", text)
    assert match, text
    return int(match.group(0))


def test_maya_logs_a_practice_by_pictures_and_hears_every_instruction(
    new_page: Callable[[], Page],
) -> None:
    page = new_page()
    page.set_viewport_size(PHONE)
    page.context.add_init_script(SPEECH_RECORDER)
    sign_in(page, ANA)
    page.get_by_role("button", name="Open Maya's screen").click()

    # Maya from here on: pictures and buttons only.
    speaker = page.get_by_role("button").filter(has_text="🔊")
    expect(speaker.first).to_be_visible()
    speaker.first.click()
    assert spoken(page, 2) == ["Hi Maya!", "Climb your brave ladder and get stars!"]

    with_picture(page, "link", "ladder").click()
    stars_before = stars(page)
    # The rung she is on, marked "you are here" (another journey of this server may have moved
    # her up a step since the demo was loaded).
    here = page.locator("li.rung-here")
    title = here.locator(".rung-title").inner_text()
    here.get_by_role("button").filter(has_text="🔊").click()
    assert spoken(page)[-1].startswith(title)
    here.get_by_role("link").click()

    page.get_by_role("button").filter(has_text="🔊").first.click()
    assert spoken(page) == ["How scared do you feel now, before you start?"]
    with_picture(page, "button", "face-calm").click()
    with_picture(page, "button", "did-all").click()  # "I had my go"
    with_picture(page, "button", "face-bit").click()
    page.get_by_role("button").filter(has_text="🔊").first.click()
    assert spoken(page) == ["How did it go?"]
    shoot(page, "practice-maya-by-pictures")
    with_picture(page, "button", "did-all").click()  # "I did it all"

    # The celebration can be heard too, in the page's language; then back to her ladder.
    page.get_by_role("button").filter(has_text="🔊").first.click()
    assert "You did it!" in spoken(page)[0]
    said = page.evaluate("window.__spoken")
    assert {s["lang"] for s in said} == {"en"}, said
    with_picture(page, "link", "ladder").click()
    assert stars(page) > stars_before
