"""The child's screens as a children's app (issue 15), on a phone (390x844) in Chromium.

Maya (6, child mode on Ana's phone) logs a practice one thing per screen by pictures alone: every
screen fits the phone without scrolling, every control is at least 64 px, taps are counted, and
the star she earns visibly flies into her jar. Leo (10) and Sam (14) see their own bands.
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from portal.demo import DEMO_PASSWORD
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import PHONE, SCREENSHOTS
from tests.e2e.test_journeys import ANA, kids_sign_in

# Every utterance is recorded, and "ends" at once so the next sentence follows.
SPEECH_RECORDER = """
window.__spoken = [];
Object.defineProperty(window, "speechSynthesis", {
  configurable: true,
  value: {
    speak: (u) => { window.__spoken.push(u.text); setTimeout(() => u.onend && u.onend(), 5); },
    cancel: () => {}, getVoices: () => [],
  },
});
"""

_TAPPABLE_UNDER_64_JS = r"""
() => [...document.querySelectorAll('main button, main a, main summary')]
  .filter(el => el.offsetParent !== null && el.getClientRects().length > 0)
  .map(el => [el.getBoundingClientRect(), (el.innerText || el.id).trim()])
  .filter(([box]) => box.height < 64 || box.width < 64)
  .map(([box, name]) => [box, name.replace(/\s+/g, ' ').slice(0, 40)])
  .map(([box, name]) => `${name} (${Math.round(box.width)}x${Math.round(box.height)})`)
"""


class Thumb:
    """Maya's thumb: counts every tap."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.taps = 0

    def tap(self, target: Locator) -> None:
        target.click()
        self.taps += 1


def fits_one_screen(page: Page, name: str, *, big_targets: bool = True) -> None:
    """The screen needs no scrolling on the phone, its controls are thumb-sized, axe is happy."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"kids-{name}-390x844.png"), full_page=True)
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= PHONE["height"], f"{name} is {height}px tall: more than one phone screen"
    if big_targets:
        assert page.evaluate(_TAPPABLE_UNDER_64_JS) == [], f"{name}: targets under 64 px"
    assert_accessible(page, name)


def said(page: Page, at_least: int) -> list[str]:
    """What "read it to me" has said so far, once it has said `at_least` sentences."""
    for _ in range(50):
        spoken: list[str] = page.evaluate("window.__spoken")
        if len(spoken) >= at_least:
            return spoken
        page.wait_for_timeout(100)
    raise AssertionError(f"only {spoken} was said")


def _maya(new_page: Callable[..., Page], **options: object) -> Page:
    page = new_page(viewport=PHONE, **options)
    page.context.add_init_script(SPEECH_RECORDER)
    page.goto("/login")
    page.locator("input[name=email]").fill(ANA)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.locator("form[action*='child-mode'] button").first.click()
    return page


def test_maya_logs_a_practice_in_six_taps_one_thing_per_screen(
    new_page: Callable[..., Page],
) -> None:
    page = _maya(new_page)
    thumb = Thumb(page)
    page.locator("a[href$='/me/ladder']").first.click()  # from her home to the ladder
    stars_before = int(page.locator("#jar-count strong").inner_text())
    here = page.locator(".rung-here")
    expect(here).to_contain_text("You are here")
    fits_one_screen_top = page.evaluate(
        "document.querySelector('.rung-here').getBoundingClientRect().bottom"
    )
    assert fits_one_screen_top <= PHONE["height"], "her place on the ladder is below the fold"

    # 1. pick the step by its picture
    thumb.tap(here.locator("a.rung-go"))
    expect(page.locator("h1")).to_contain_text("before you start")
    page.locator("[data-read-aloud]").first.click()
    assert said(page, 1)[0] == "How scared do you feel now, before you start?"
    fits_one_screen(page, "maya-1-before")
    # 2. how scared before: a face
    thumb.tap(page.locator("button.face-button").nth(1))
    expect(page.locator("h1")).to_contain_text("Now have a go")
    page.locator("[data-read-aloud]").first.click()
    # "read it to me" speaks each sentence on its own, with a pause between them
    spoken = said(page, 3)
    assert spoken == [
        "Now have a go!",
        "Go in with my teacher, Mummy watches.",
        "Hold the teacher's hand.",
    ], spoken
    fits_one_screen(page, "maya-2-do-it")
    # 3. she had her go
    thumb.tap(page.locator("button.flow-next"))
    expect(page.locator("h1")).to_contain_text("worst moment")
    fits_one_screen(page, "maya-3-worst")
    # 4. the worst moment: a face
    thumb.tap(page.locator("button.face-button").first)
    expect(page.locator("h1")).to_contain_text("How did it go?")
    fits_one_screen(page, "maya-4-how", big_targets=True)
    # 5. how it went: the button she presses is her answer ("I did some") and saves
    some = page.locator("button[value=partial]")
    expect(some).to_have_text("I did some")
    thumb.tap(some)
    expect(page.locator("h1")).to_contain_text("You did it!")
    stars_after = int(page.locator("#star-total").inner_text().split()[0])
    assert stars_after > stars_before
    expect(page.locator(".jar-item-new")).not_to_have_count(0)  # the stars flying in
    fits_one_screen(page, "maya-5-celebrate")
    assert thumb.taps == 5  # logged in five taps (at most six)
    # 6. back to the ladder, where the jar shows the new stars
    thumb.tap(page.locator("a[href$='/me/ladder']"))
    expect(page.locator("#jar-count strong")).to_have_text(str(stars_after))
    assert thumb.taps <= 6


def test_maya_celebration_is_still_when_motion_is_reduced(new_page: Callable[..., Page]) -> None:
    page = _maya(new_page, reduced_motion="reduce")
    page.goto("/me/ladder/well-done?earned=2")
    animation = page.evaluate(
        "getComputedStyle(document.querySelector('.jar-item-new')).animationName"
    )
    assert animation == "none"
    expect(page.locator(".jar-item-new")).to_have_count(2)  # still visibly new (outlined)


def test_the_young_screens_in_spanish(new_page: Callable[..., Page]) -> None:
    page = _maya(new_page, locale="es-ES")
    page.goto("/me/ladder")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert_accessible(page, "maya-ladder-es")
    page.locator(".rung-here a.rung-go").click()
    fits_one_screen(page, "maya-1-before-es")
    page.locator("button.face-button").first.click()
    fits_one_screen(page, "maya-2-do-it-es")
    page.locator("button.flow-next").click()
    page.locator("button.face-button").first.click()
    fits_one_screen(page, "maya-4-how-es")
    page.locator("button[value=full]").click()
    fits_one_screen(page, "maya-5-celebrate-es")


def test_leo_and_sam_see_their_place_on_the_ladder(new_page: Callable[..., Page]) -> None:
    leo = new_page(viewport=PHONE)
    kids_sign_in(leo, "leo", "2468")
    leo.goto("/me/ladder")
    expect(leo.locator(".rung-here")).to_contain_text("You are here")
    expect(leo.locator(".jar-panel svg .jar-item")).not_to_have_count(0)
    leo.screenshot(path=str(SCREENSHOTS / "kids-leo-ladder-390x844.png"), full_page=True)
    assert_accessible(leo, "leo-ladder")


def test_leo_rates_with_thermometers_by_tap_drag_and_keyboard_and_his_jar_fills(
    new_page: Callable[..., Page],
) -> None:
    leo = new_page(viewport=PHONE)
    kids_sign_in(leo, "leo", "2468")
    leo.goto("/me/ladder")
    tokens_before = int(leo.locator("#jar-count strong").inner_text())
    leo.locator(".rung-here a.rung-go").click()
    leo.get_by_label("What I think will happen").fill("The dog will jump at me")
    before = leo.get_by_role("group", name="Before")
    before.locator("label.thermo-4").click()  # tap
    expect(before.locator("input[value='4']")).to_be_checked()
    # drag the chosen number up to 7
    start = before.locator("label.thermo-4").bounding_box()
    end = before.locator("label.thermo-7").bounding_box()
    assert start and end
    leo.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    leo.mouse.down()
    leo.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=6)
    leo.mouse.up()
    expect(before.locator("input[value='7']")).to_be_checked()
    # the keyboard: arrows move the worst-moment thermometer
    worst = leo.get_by_role("group", name="Worst moment")
    worst.locator("input[value='5']").focus()
    leo.keyboard.press("Space")
    leo.keyboard.press("ArrowDown")
    expect(worst.locator("input:checked")).not_to_have_value("5")
    leo.get_by_role("group", name="After").locator("label.thermo-2").click()
    leo.get_by_label("What really happened").fill("It sniffed my shoe and walked on")
    leo.screenshot(path=str(SCREENSHOTS / "kids-leo-practice-390x844.png"), full_page=True)
    assert_accessible(leo, "leo-practice")
    leo.get_by_role("button", name="Save my practice").click()
    expect(leo.locator("#jar-count strong")).not_to_have_text(str(tokens_before))
    assert int(leo.locator("#jar-count strong").inner_text()) > tokens_before


def test_sam_is_spoken_to_as_a_teen_from_sign_in_to_his_home(new_page: Callable[..., Page]) -> None:
    sam = new_page(viewport=PHONE)
    kids_sign_in(sam, "sam", "not-my-password")
    error = sam.locator(".error-summary")
    expect(error).to_contain_text("don't match")
    expect(error).not_to_contain_text("grown-up")
    kids_sign_in(sam, "sam", DEMO_PASSWORD)
    next_step = sam.get_by_role("region", name="Your next step")
    expect(next_step).to_contain_text("Answer a question I'm sure of")
    expect(sam.get_by_role("region", name="Progress")).to_contain_text("steps done")
    expect(sam.get_by_role("region", name="Who can see what")).to_contain_text("Your parents:")
    expect(sam.locator("main")).not_to_contain_text("grown-up")
    sam.screenshot(path=str(SCREENSHOTS / "kids-sam-home-390x844.png"), full_page=True)
    assert_accessible(sam, "sam-home")
    next_step.get_by_role("link").click()
    expect(sam.get_by_role("heading", level=1)).to_have_text("Answer a question I'm sure of")
