"""Issue 13: a guardian signs in and sees at once what needs them; one tap does it; it is gone and
the badge in the navigation drops. Carla and Ana in English, David in Spanish (with no English on
any of his screens). On a phone (390x844), photographed on phone and laptop."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from portal.demo import DEMO_PASSWORD
from tests.e2e.conftest import PHONE, shoot, sign_in
from tests.support.english import DOUBLED_STOP, _catalogue, _Page, english_left

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


# --- David reads Rapport in Spanish -------------------------------------------------------------

DAVID = "david@demo.rapport.test"


def _no_english(page: Page, where: str) -> None:
    """What David sees is Spanish: no text on the page is an English message of the catalogue
    (the check of tests/test_spanish_demo.py, on the page as the browser shows it)."""
    msgids, carrying = _catalogue()
    seen = _Page()
    seen.feed(page.content())
    found = english_left([*seen.texts, *DOUBLED_STOP.findall(seen.flat)], msgids, carrying)
    assert found == [], f"English on David's {where}: {found}"


def _spanish_sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    expect(page.get_by_role("heading", name="Iniciar sesión")).to_be_visible()
    _no_english(page, "sign-in page")
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()


def test_david_answers_in_spanish_what_needs_him_first(new_page: Callable[..., Page]) -> None:
    david = new_page(locale="es-ES", viewport=PHONE)
    _spanish_sign_in(david, DAVID)
    first = david.locator("#needs .need").first
    expect(first).to_contain_text("La versión 2 del plan de Leo espera su respuesta")
    before = _badge(david)
    assert before >= 2  # the plan and the check-in of the session he attended
    _no_english(david, "family page")
    shoot(david, "needs-david")

    # One tap, then the form: David accepts version 2.
    first.get_by_role("link", name="Leer y responder").click()
    expect(david.get_by_role("heading", name="Plan de Leo · versión 2")).to_be_visible()
    _no_english(david, "plan version page")
    shoot(david, "needs-david-plan")
    david.get_by_label("Acepto este plan").check()
    david.get_by_role("button", name="Enviar mi respuesta").click()
    expect(david.get_by_role("heading", name="Se propone la versión 2")).to_be_visible()
    expect(david.get_by_text("Una versión nueva espera su respuesta")).to_have_count(0)
    _no_english(david, "plan page after answering")
    shoot(david, "needs-david-plan-answered")
    david.get_by_role("link", name="Mi familia").click()
    expect(david.locator("#needs")).not_to_contain_text("plan de Leo espera su respuesta")
    assert _badge(david) == before - 1

    # Next at the top: the check-in of the session he attended; one tap and the form.
    first = david.locator("#needs .need").first
    expect(first).to_contain_text("¿Qué tal fue la sesión del")
    _no_english(david, "family page")
    shoot(david, "needs-david-session")
    first.get_by_role("link", name="Dar su opinión").click()
    _no_english(david, "session check-in form")
    shoot(david, "needs-david-checkin")
    for legend, value in (
        ("Me sentí escuchado", 9),
        ("Trabajamos en lo que nos importa", 8),
        ("La forma de trabajar", 8),
        ("En general", 9),
    ):
        david.locator("fieldset.scale", has=david.locator("legend", has_text=legend)).locator(
            "label.scale-choice", has_text=str(value)
        ).first.click()
    david.get_by_role("button", name="Enviar opinión").click()
    expect(david.get_by_text("¡Gracias! Su terapeuta leerá su opinión.")).to_be_visible()
    _no_english(david, "page after the check-in")
    shoot(david, "needs-david-checkin-sent")
    david.get_by_role("link", name="Mi familia").click()
    expect(david.locator("#needs")).not_to_contain_text("¿Qué tal fue la sesión")
    assert _badge(david) == before - 2
    _no_english(david, "family page")
    shoot(david, "needs-david-done")
