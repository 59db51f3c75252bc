"""Each kind of person lands on their own home page after signing in."""

from tests.support.browser import Browser
from tests.support.rows import PIN, World


def test_therapist_sees_caseload_with_their_child_only(browser: Browser, world: World) -> None:
    browser.login("t1@clinic.test")
    page = browser.get("/caseload").get_data(as_text=True)
    assert "Cody" in page
    assert "Cara" not in page and "SENTINEL_F2" not in page


def test_guardian_lands_on_family_page(browser: Browser, world: World) -> None:
    response = browser.login("g1@family.test")
    assert response.headers["Location"] == "/family"
    page = browser.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert "Cody" in page and "Dr. Tess One" in page


def test_child_signs_in_with_username_and_pin(browser: Browser, world: World) -> None:
    browser.login("cody1", PIN)
    page = browser.get("/me").get_data(as_text=True)
    assert "Hi Cody!" in page
