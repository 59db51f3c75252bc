"""The accessibility sweep (issue 8): axe-core on every page each kind of person can reach, in
English and in Spanish, with zero violations allowed.

Each person signs in with the journeys' own helpers, then the sweep follows every link on every
page it reaches (one page per route: /cases/3/plan and /cases/4/plan are the same template) and
runs axe on each, with every <details> opened. The htmx states (a reordered list, a sent cheer, a
message arriving in an open thread) and the error states of the main forms are checked after the
swap. A failure lists page, rule id and the elements.

English is swept on a phone (390x844), where every control must also be a fingertip (44px) and
nothing may scroll sideways; Spanish on a laptop (1280x800), so both widths meet axe.

Spanish: the person signs in, then the browser asks for Spanish (Accept-Language: es) on every
page after, as a Spanish-speaking parent's phone would.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from portal.demo import LEO_PIN
from tests.e2e.axe import axe_violations
from tests.e2e.conftest import ANA, RIVERA, LiveServer, kids_sign_in, sign_in
from tests.e2e.sweep import _open_maya, device_for, speak, sweep_person


@pytest.fixture()
def context_for(new_page: Callable[..., Page]) -> Callable[[str], Page]:
    return device_for(new_page)


# The longest sweep here; the other people's sweeps are in test_accessibility_people.py.
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_page_has_no_axe_violations(
    language: str, context_for: Callable[[str], Page], live_server: LiveServer
) -> None:
    sweep_person("admin-rivera", language, context_for(language), live_server)


@pytest.mark.parametrize("language", ["en", "es"])
def test_htmx_states_are_read_out_keep_focus_and_pass_axe(
    language: str, context_for: Callable[[str], Page]
) -> None:
    """A cheer sent in place, a ladder step moved in place, a message arriving in an open thread."""
    rivera = context_for(language)
    sign_in(rivera, RIVERA)
    speak(rivera, language)
    announcer = rivera.locator("#announcer")

    rivera.goto("/cases/1/progress")
    entry = rivera.locator("#practice-log .practice-entry").first
    entry.locator("summary").first.click()
    entry.locator("textarea, input[type=text]").first.fill("You were so brave at the gate!")
    entry.locator("button[type=submit]").last.click()
    expect(announcer).not_to_be_empty()
    confirmation = rivera.locator("#practice-log [data-announce]")
    expect(confirmation).to_be_focused()  # not dropped on <body> when the list was replaced
    assert_no_violations(rivera, f"[{language}] htmx: cheer sent")

    rivera.goto("/ladders/1")
    before = announcer.inner_text()
    first_down = rivera.locator("#step-list form:has(input[value=down]) button").first
    first_down.focus()
    rivera.keyboard.press("Enter")
    expect(announcer).not_to_have_text(before)
    expect(rivera.locator("#step-list button[autofocus]")).to_be_focused()
    assert_no_violations(rivera, f"[{language}] htmx: ladder step moved")
    rivera.keyboard.press("Shift+Tab")  # the same step's "move up" puts it back
    rivera.keyboard.press("Enter")
    expect(rivera.locator("#step-list button[autofocus]")).to_be_focused()

    # Ana has Maya's family thread open and is typing; Dr. Rivera's answer arrives and is read
    # out, while Ana's cursor and her draft stay where they were.
    ana = context_for(language)
    sign_in(ana, ANA)
    speak(ana, language)
    thread = _family_thread_url(ana)
    draft = ana.locator("textarea[name=body]")
    draft.fill("Half a sentence")
    rivera.goto(thread)
    answer = f"See you on Thursday ({language})"
    rivera.locator("textarea[name=body]").fill(answer)
    rivera.locator("button[data-send]").click()
    expect(ana.locator("#announcer")).to_contain_text(answer, timeout=8_000)
    expect(draft).to_be_focused()
    expect(draft).to_have_value("Half a sentence")
    assert_no_violations(ana, f"[{language}] htmx: message arrived")


def _family_thread_url(page: Page) -> str:
    page.goto("/cases/1/messages")
    page.locator("main a[href^='/messages/']").first.click()
    page.locator("textarea[name=body]").focus()
    return page.url


@pytest.mark.parametrize("language", ["en", "es"])
def test_error_states_pass_axe(language: str, context_for: Callable[[str], Page]) -> None:
    """Each main form sent wrong: the error is shown, takes focus, and breaks no axe rule."""
    page = context_for(language)
    speak(page, language)
    page.goto("/login")
    page.locator("input[name=email]").fill("nobody@example.test")
    page.locator("input[name=password]").fill("not a password")
    page.locator("input[name=password]").press("Enter")
    expect(page.locator(".error-summary")).to_be_focused()
    assert_no_violations(page, f"[{language}] error: sign in")

    page.goto("/login/kids")
    page.locator("input[name=username]").fill("nobody")
    page.locator("input[name=secret], input[type=password]").first.fill("0000")
    page.locator("main button[type=submit]").click()
    expect(page.locator(".error-summary, .error").first).to_be_visible()
    assert_no_violations(page, f"[{language}] error: kids sign in")

    leo = context_for(language)
    kids_sign_in(leo, "leo", LEO_PIN)
    speak(leo, language)
    leo.goto("/me/ladder")
    leo.locator("a.rung-go").first.click()
    leo.locator("input[name=duration_minutes]").fill("700")
    leo.locator("form.practice-form button[type=submit]").click()
    expect(leo.locator(".error-summary")).to_be_focused()
    assert_no_violations(leo, f"[{language}] error: Leo's practice")

    maya = context_for(language)
    _open_maya(maya)
    speak(maya, language)
    maya.goto("/me/ladder")
    maya.locator("a.rung-go").first.click()
    maya.locator("button.face-button").first.click()  # before
    maya.locator("button.flow-next").click()  # "I had my go"
    maya.locator("button.face-button").first.click()  # the worst moment
    maya.locator("details.grown-ups summary").click()
    maya.locator("input[name=duration_minutes]").fill("700")  # a grown-up's slip
    maya.locator("button[value=full]").click()
    expect(maya.locator(".error-summary")).to_be_focused()
    assert_no_violations(maya, f"[{language}] error: Maya's practice")

    ana = context_for(language)
    sign_in(ana, ANA)
    speak(ana, language)
    _family_thread_url(ana)
    ana.locator("button[data-send]").click()
    expect(ana.locator(".error-summary")).to_be_visible()
    assert_no_violations(ana, f"[{language}] error: empty message")


def assert_no_violations(page: Page, label: str) -> None:
    problems = axe_violations(page, label)
    assert problems == [], "\n" + "\n".join(problems)
