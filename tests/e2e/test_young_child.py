"""A six-year-old who cannot read (issue 8): Maya logs a practice in child mode on a phone by
tapping pictures alone, and every "read it to me" button speaks its instruction aloud.

Once Ana has opened Maya's screen, the test finds every control by its role and its picture,
never by its words, as Maya does. The browser's speech synthesis is replaced in the page (before
any script runs) by a recorder of what would have been said.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ANA, PHONE, shoot, sign_in

SPEECH_RECORDER = """
window.__spoken = [];
Object.defineProperty(window, "speechSynthesis", {
  configurable: true,
  value: { speak: (u) => window.__spoken.push({ text: u.text, lang: u.lang }), cancel: () => {},
           getVoices: () => [] },
});
"""


def spoken(page: Page) -> list[str]:
    said: list[dict[str, str]] = page.evaluate("window.__spoken")
    return [s["text"] for s in said]


def stars(page: Page) -> int:
    text = page.get_by_role("region", name="My stars").inner_text()
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
    assert spoken(page)[-1].startswith("Hi Maya!. Climb your brave ladder and get stars!")

    page.get_by_role("link").filter(has_text="🪜").click()
    stars_before = stars(page)
    school = page.get_by_role("listitem").filter(has_text="🏫")
    school.get_by_role("button").filter(has_text="🔊").click()
    assert spoken(page)[-1].startswith("Go in with my teacher, Mummy watches")
    school.get_by_role("link").filter(has_text="▶").click()

    page.get_by_role("button").filter(has_text="🔊").first.click()
    assert spoken(page)[-1] == "Go in with my teacher, Mummy watches. Hold the teacher's hand."
    scared = page.get_by_role("group").filter(has_text="🤔")
    did_it = page.get_by_role("group").filter(has_text="🙋")
    scared.get_by_role("button").filter(has_text="🔊").click()
    assert spoken(page)[-1] == "How scared were you?"
    did_it.get_by_role("button").filter(has_text="🔊").click()
    assert spoken(page)[-1] == "Did you do it?"
    scared.get_by_text("😀", exact=True).click()
    expect(scared.get_by_role("radio").first).to_be_checked()
    did_it.get_by_text("✅", exact=True).click()
    expect(did_it.get_by_role("radio").first).to_be_checked()
    shoot(page, "practice-maya-by-pictures")
    page.get_by_role("button").filter(has_text="⭐").click()

    # Back on her ladder: one more star, and the well-done message can be heard too.
    expect(page.get_by_role("region", name="My stars")).to_be_visible()
    assert stars(page) > stars_before
    page.get_by_role("status").get_by_role("button").filter(has_text="🔊").click()
    assert "You did it! Here is your star!" in spoken(page)[-1]
    said = page.evaluate("window.__spoken")
    assert {s["lang"] for s in said} == {"en"}, said  # spoken in the page's language
