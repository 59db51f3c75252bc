"""The child's screens as a children's app (issue 15), on a phone (390x844) in Chromium.

Maya (6, child mode on Ana's phone) logs a practice one thing per screen by pictures alone: every
screen fits the phone without scrolling, every control is at least 64 px, taps are counted, and
the star she earns visibly flies into her jar. Leo (10) and Sam (14) see their own bands.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from playwright.sync_api import Locator, Page, Route, expect
from sqlalchemy import func, select

from portal import db
from portal.demo import DEMO_PASSWORD
from portal.models import User
from portal.models.ladders import PracticeAttempt
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import ANA, DESKTOP, PHONE, SCREENSHOTS, LiveServer, kids_sign_in, sign_in

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
    page.wait_for_load_state("load")
    broken = page.evaluate(
        "[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )
    assert broken == [], f"{name}: pictures that did not draw: {broken}"
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
    page = new_page(**{"viewport": PHONE, **options})
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


# --- installable and offline ---------------------------------------------------------------------

CACHED_PAGES_JS = "caches.open('rapport-pages').then(c => c.keys()).then(k => k.map(r => r.url))"


def _with_service_worker(page: Page, path: str, *, pages_at_least: int = 1) -> None:
    """Open `path` until the service worker controls the page and has kept the child's pages."""
    page.goto(path)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now through the worker: the page and its practice forms are kept
    for _ in range(50):
        if len(page.evaluate(CACHED_PAGES_JS)) >= pages_at_least:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the worker kept only {page.evaluate(CACHED_PAGES_JS)}")


def _practices_of(live_server: LiveServer, outcome: str) -> int:
    with live_server.app.app_context():
        return (
            db.session.scalar(
                select(func.count(PracticeAttempt.id)).where(PracticeAttempt.outcome == outcome)
            )
            or 0
        )


def test_a_practice_whose_first_sending_fails_is_sent_again_without_a_tap(
    new_page: Callable[..., Page], live_server: LiveServer
) -> None:
    """The connection comes back in name before it works (or the server is busy): the worker's
    first try is refused, and the page asks it again by itself; Leo need not open another screen."""
    outcome = f"Busy wifi at the pool {uuid.uuid4().hex[:6]}"
    leo = new_page(viewport=PHONE)
    kids_sign_in(leo, "leo", "2468")
    _with_service_worker(leo, "/me/ladder", pages_at_least=3)

    leo.context.set_offline(True)
    leo.locator(".rung-here a.rung-go").click()
    leo.get_by_role("group", name="Before").locator("label.thermo-6").click()
    leo.get_by_role("group", name="Worst moment").locator("label.thermo-5").click()
    leo.get_by_label("What really happened").fill(outcome)
    leo.get_by_role("button", name="Save my practice").click()
    expect(leo.locator("#offline-notice")).to_be_visible()

    posts: list[int] = []

    def busy_once(route: Route) -> None:  # the worker's requests pass through the context's routes
        if route.request.method == "POST":
            posts.append(1)
            if len(posts) == 1:
                route.fulfill(status=503, body="busy")
                return
        route.continue_()

    leo.context.route("**/me/ladder/steps/*", busy_once)
    leo.context.set_offline(False)
    leo.evaluate("window.dispatchEvent(new Event('online'))")
    expect(leo.locator("#offline-notice")).to_be_hidden(timeout=10_000)
    assert len(posts) == 2  # refused once, then sent again by itself
    assert _practices_of(live_server, outcome) == 1


def test_the_app_can_be_installed(new_page: Callable[..., Page]) -> None:
    page = new_page()
    page.goto("/login/kids")
    manifest_url = page.locator("link[rel=manifest]").get_attribute("href")
    assert manifest_url
    manifest = page.request.get(manifest_url).json()
    assert manifest["start_url"] == "/me" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert page.request.get(icon["src"]).ok, icon
    worker = page.request.get("/sw.js")
    assert worker.ok and "javascript" in worker.headers["content-type"]


def test_leo_logs_a_practice_in_the_park_without_a_connection(
    new_page: Callable[..., Page], live_server: LiveServer
) -> None:
    outcome = f"Offline in the park {uuid.uuid4().hex[:6]}"
    leo = new_page(viewport=PHONE)
    kids_sign_in(leo, "leo", "2468")
    _with_service_worker(leo, "/me/ladder", pages_at_least=3)

    leo.context.set_offline(True)
    leo.locator(".rung-here a.rung-go").click()  # the form kept on the device
    leo.get_by_role("group", name="Before").locator("label.thermo-6").click()
    leo.get_by_role("group", name="Worst moment").locator("label.thermo-5").click()
    leo.get_by_label("What really happened").fill(outcome)
    leo.get_by_role("button", name="Save my practice").click()
    notice = leo.locator("#offline-notice")
    expect(notice).to_have_text("Saved on this device — it will be sent when you are online.")
    expect(notice).to_be_visible()
    leo.screenshot(path=str(SCREENSHOTS / "kids-leo-offline-saved-390x844.png"), full_page=True)
    leo.reload()  # still offline: still kept, still said
    expect(leo.locator("#offline-notice")).to_be_visible()
    assert _practices_of(live_server, outcome) == 0

    leo.context.set_offline(False)
    leo.evaluate("window.dispatchEvent(new Event('online'))")
    expect(leo.locator("#offline-notice")).to_be_hidden(timeout=10_000)
    for _ in range(50):
        if _practices_of(live_server, outcome):
            break
        leo.wait_for_timeout(100)
    leo.reload()
    leo.evaluate("window.dispatchEvent(new Event('online'))")
    leo.wait_for_timeout(500)
    assert _practices_of(live_server, outcome) == 1  # sent once, stored once

    carla = new_page()
    sign_in(carla, "carla@demo.rapport.test")
    carla.goto(f"/cases/{_leo_case_id(live_server)}/progress")
    expect(carla.get_by_text(outcome)).to_be_visible()


def _leo_case_id(live_server: LiveServer) -> int:
    with live_server.app.app_context():
        return (
            db.session.scalars(
                select(PracticeAttempt.case_id)
                .join(User, User.id == PracticeAttempt.entered_by_id)
                .where(User.username == "leo")
            ).first()
            or 0
        )


def test_the_worker_never_shows_one_persons_screens_to_another(
    new_page: Callable[..., Page],
) -> None:
    device = new_page(viewport=PHONE)
    kids_sign_in(device, "leo", "2468")
    _with_service_worker(device, "/me/ladder", pages_at_least=3)
    leo_step = device.locator(".rung-here a.rung-go").get_attribute("href")
    assert leo_step
    device.get_by_role("button", name="Sign out").click()
    assert device.evaluate(CACHED_PAGES_JS) == []  # signing out keeps nothing

    kids_sign_in(device, "sam", DEMO_PASSWORD)
    _with_service_worker(device, "/me")
    device.context.set_offline(True)
    for path in ("/me/ladder", leo_step, "/me"):
        device.goto(path)
        body = device.locator("body").inner_text()
        assert "Leo" not in body and "dog" not in body.lower(), (path, body[:200])


def _maya_logs_a_try(page: Page, thumb: Thumb) -> str:
    """Maya's five taps on her ladder's current step; returns the try's idempotency key."""
    thumb.tap(page.locator(".rung-here a.rung-go"))
    expect(page.locator("h1")).to_contain_text("before you start")
    page.wait_for_load_state("load")  # the screen has taken its answers from its address
    thumb.tap(page.locator("button.face-button").nth(1))
    expect(page.locator("h1")).to_contain_text("Now have a go")
    thumb.tap(page.locator("button.flow-next"))
    expect(page.locator("h1")).to_contain_text("worst moment")
    page.wait_for_load_state("load")
    thumb.tap(page.locator("button.face-button").first)
    expect(page.locator("h1")).to_contain_text("How did it go?")
    page.wait_for_load_state("load")
    key = page.locator("input[name=idempotency_key]").input_value()
    thumb.tap(page.locator("button[value=full]"))
    return key


SAVED_YESTERDAY_JS = """
key => new Promise((done, failed) => {
  const open = indexedDB.open("rapport-offline", 1);
  open.onerror = failed;
  open.onsuccess = () => {
    const store = open.result.transaction("outbox", "readwrite").objectStore("outbox");
    const get = store.get(key);
    get.onsuccess = () => {
      const item = get.result;
      item.saved = Date.now() - 26 * 60 * 60 * 1000;
      store.put(item).onsuccess = () => { open.result.close(); done(true); };
    };
  };
})
"""


def _practices_with(live_server: LiveServer, keys: list[str]) -> list[PracticeAttempt]:
    with live_server.app.app_context():
        rows = db.session.scalars(
            select(PracticeAttempt).where(PracticeAttempt.idempotency_key.in_(keys))
        ).all()
        db.session.expunge_all()
    return list(rows)


def test_maya_logs_at_the_school_gate_without_a_connection(
    new_page: Callable[..., Page], live_server: LiveServer
) -> None:
    page = _maya(new_page)
    # her ladder, the first screen of her step, its three other screens and the celebration
    _with_service_worker(page, "/me/ladder", pages_at_least=6)

    page.context.set_offline(True)
    keys = []
    for attempt in (1, 2):  # twice: each try kept on the device gets a key of its own
        thumb = Thumb(page)
        keys.append(_maya_logs_a_try(page, thumb))
        expect(page.locator("h1")).to_have_text("You did it!")
        notice = page.locator("#offline-notice")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("Saved on this device")
        # she cannot read it: a picture says it too, and "read it to me" says it
        expect(notice.locator("img[src*='/on-device.svg?']")).to_be_visible()
        assert thumb.taps == 5  # kept on the device in five taps, as online
        if attempt == 1:
            fits_one_screen(page, "maya-offline-saved")
            page.locator("[data-read-aloud]").first.click()
            assert said(page, 2)[1].startswith("Saved on this device"), said(page, 2)
            page.reload()  # still offline: still kept, still said
            expect(page.locator("#offline-notice")).to_be_visible()
        page.locator("a[href$='/me/ladder']").click()  # her ladder, kept on the device
        expect(page.locator("#offline-notice")).to_be_visible()
        expect(page.locator("#offline-notice img[src*='/on-device.svg?']")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "kids-maya-offline-ladder-390x844.png"), full_page=True)
    assert_accessible(page, "maya-offline-ladder")
    assert len(set(keys)) == 2 and all(uuid.UUID(k) for k in keys), keys
    assert _practices_with(live_server, keys) == []
    # The first try was kept yesterday (the phone stayed offline overnight): it counts on the
    # day she did it, not on the day it was sent.
    page.evaluate(SAVED_YESTERDAY_JS, keys[0])

    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#offline-notice")).to_be_hidden(timeout=10_000)
    for _ in range(50):
        if len(_practices_with(live_server, keys)) == 2:
            break
        page.wait_for_timeout(100)
    page.reload()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_timeout(500)
    stored = _practices_with(live_server, keys)
    assert sorted(p.idempotency_key for p in stored) == sorted(keys)  # each sent once, stored once
    assert all(p.on_behalf_of_child and p.fear_before_raw == 1 for p in stored)
    when = {p.idempotency_key: p.practiced_at for p in stored}
    assert when[keys[1]] - when[keys[0]] > timedelta(hours=20), when

    ben = new_page()
    sign_in(ben, "ben@demo.rapport.test")
    ben.goto(f"/cases/{stored[0].case_id}/progress")
    for practice in stored:
        expect(ben.locator(f"#practice-{practice.id}")).to_contain_text("Did it all")


def test_signing_out_of_the_family_phone_keeps_nothing_of_maya(
    new_page: Callable[..., Page],
) -> None:
    device = _maya(new_page)
    _with_service_worker(device, "/me/ladder", pages_at_least=6)
    maya_step = device.locator(".rung-here a.rung-go").get_attribute("href")
    step_title = device.locator(".rung-here .rung-title").inner_text()
    assert maya_step
    device.goto("/me/leave")
    device.get_by_label("Grown-up's password").fill(DEMO_PASSWORD)
    device.get_by_role("button", name="Leave").click()
    device.get_by_role("button", name="Sign out").click()
    device.wait_for_url("**/login?signed_out=1")
    assert device.evaluate("caches.keys()") == []  # Clear-Site-Data: nothing kept
    assert device.evaluate("indexedDB.databases().then(d => d.map(x => x.name))") == []

    kids_sign_in(device, "leo", "2468")
    _with_service_worker(device, "/me/ladder", pages_at_least=3)
    device.context.set_offline(True)
    for path in (maya_step, f"{maya_step}?stage=how&peak=0", "/me/ladder/well-done?on_device=1"):
        device.goto(path)
        body = device.locator("body").inner_text()
        assert "Maya" not in body and step_title not in body, (path, body[:200])


# --- every screen of each band on a phone and a desktop ------------------------------------------

_OVERFLOW_JS = r"""
() => [...document.querySelectorAll('body *')]
  .filter(el => el.getClientRects().length && el.getBoundingClientRect().right > innerWidth + 1)
  .filter(el => !el.closest('.visually-hidden, .skip-link'))
  .map(el => [el, Math.round(el.getBoundingClientRect().right)])
  .map(([el, right]) => `${el.tagName.toLowerCase()}.${el.className} (${right}px)`)
  .slice(0, 5)
"""


def _walk(page: Page, who: str, size: str, paths: list[str]) -> list[str]:
    """Each page: a screenshot to look at, and nothing wider than the screen."""
    problems = []
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("load")
        name = path.strip("/").replace("/", "-").replace("?", "-").replace("&", "-") or "home"
        page.screenshot(path=str(SCREENSHOTS / f"walk-{who}-{name}-{size}.png"), full_page=True)
        wide = page.evaluate(_OVERFLOW_JS)
        if wide or page.evaluate("document.documentElement.scrollWidth > innerWidth"):
            problems.append(f"{who} {path} at {size}: wider than the screen: {wide}")
    return problems


def test_each_childs_screens_fit_a_phone_and_a_desktop(new_page: Callable[..., Page]) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for viewport, size in ((PHONE, "390x844"), (DESKTOP, "1280x800")):
        maya = _maya(new_page, viewport=viewport)
        maya.goto("/me/ladder")
        step = maya.locator(".rung-here a.rung-go").get_attribute("href")
        flow = [f"{step}?stage={s}&before=1&peak=0" for s in ("do", "peak", "how")]
        problems += _walk(
            maya, "maya", size, ["/me", "/me/ladder", str(step), *flow, "/me/plan", "/me/leave"]
        )
        problems += _walk(maya, "maya", size, ["/me/ladder/well-done?earned=2"])
        # What she cannot read has a picture of ours: each step's state, a reward that waits,
        # how far along the flow is, and the faces of "how is it going?" on her plan.
        maya.goto("/me/ladder")
        rungs = maya.locator(".rung")
        expect(rungs.locator(".rung-state img.state-pic")).to_have_count(rungs.count())
        expect(maya.locator(".reward-waiting img[src*='/waiting.svg?']")).not_to_have_count(0)
        expect(maya.locator("main .tag")).to_have_count(0)  # no pill that looks like a button
        maya.goto(str(step))
        expect(maya.locator(".flow-dot")).to_have_count(4)
        expect(maya.locator(".flow-dot-done")).to_have_count(1)
        maya.goto("/me/plan")
        faces = maya.locator(".face-button")
        expect(faces.locator("img.face-pic")).to_have_count(faces.count())
        for who, secret, extra in (("leo", "2468", []), ("sam", DEMO_PASSWORD, ["/messages"])):
            child = new_page(viewport=viewport)
            kids_sign_in(child, who, secret)
            child.goto("/me/ladder")
            step = child.locator(".rung-here a.rung-go").first.get_attribute("href")
            paths = ["/me", "/me/ladder", str(step), "/me/plan", "/account/password", *extra]
            problems += _walk(child, who, size, paths)
    assert problems == []


def test_maya_is_told_in_spanish_that_her_try_waits_on_the_phone(
    new_page: Callable[..., Page],
) -> None:
    page = _maya(new_page, locale="es-ES")
    _with_service_worker(page, "/me/ladder", pages_at_least=6)
    page.context.set_offline(True)
    page.locator(".rung-here a.rung-go").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.wait_for_load_state("load")
    page.locator("button.face-button").first.click()
    page.locator("button.flow-next").click()
    page.wait_for_load_state("load")
    page.locator("button.face-button").first.click()
    page.wait_for_load_state("load")
    page.locator("button[value=full]").click()
    notice = page.locator("#offline-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Guardado en este dispositivo")
    fits_one_screen(page, "maya-offline-saved-es")
