"""Who the test people are and how each kind signs in (through the real sign-in routes).

One helper per kind of person: a therapist (password, then the authenticator code, AU-08), a
guardian (email and password), a teen (username and password), a young child (username and PIN),
and a guardian handing the device to their child (child mode). `sign_in(new_browser, actor)` picks
the right one for an actor of the scene by name.
"""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.test import TestResponse

from tests.support.browser import Browser
from tests.support.rows import PASSWORD, PIN

SIGN_IN = {
    "C1": ("cody1", PIN),
    "C2": ("cara2", PIN),
    "G1": ("g1@family.test", PASSWORD),
    "G2": ("g2@family.test", PASSWORD),
    "G3": ("g3@family.test", PASSWORD),  # case1's guardian without consent authority (scene)
    "T1": ("t1@clinic.test", PASSWORD),
    "T2": ("t2@clinic.test", PASSWORD),
    "T3": ("t3@clinic.test", PASSWORD),
    "A": ("a@clinic.test", PASSWORD),
}
HOME_OF = {
    "C1": "/me",
    "G1": "/family",
    "G2": "/family",
    "G3": "/family",
    "T1": "/caseload",
    "T2": "/caseload",
    "A": "/caseload",
}
# Who belongs to which family: nobody else may ever see that family's sentinel strings.
FAMILY_OF = {"C1": "F1", "G1": "F1", "G3": "F1", "T1": "F1", "G2": "F2", "T2": "F2"}


def sign_in_therapist(browser: Browser, email: str, password: str = PASSWORD) -> TestResponse:
    """Password, then the second step with the authenticator's code (Browser does it)."""
    assert browser.auto_second_step, "a therapist's sign-in needs the second step"
    return browser.login(email, password)


def sign_in_guardian(browser: Browser, email: str, password: str = PASSWORD) -> TestResponse:
    return browser.login(email, password)


def sign_in_teen(browser: Browser, username: str, password: str = PASSWORD) -> TestResponse:
    return browser.login(username, password)


def sign_in_child(browser: Browser, username: str, pin: str = PIN) -> TestResponse:
    return browser.login(username, pin)


def enter_child_mode(browser: Browser, case_id: int) -> TestResponse:
    """A signed-in guardian hands the device to the child of `case_id`."""
    response = browser.post(f"/family/{case_id}/child-mode")
    assert response.status_code == 303, response.status_code
    return response


def sign_in(new_browser: Callable[[], Browser], actor: str) -> Browser:
    """A new browser signed in as the scene's `actor` ("anon" stays signed out)."""
    browser = new_browser()
    if actor == "anon":
        return browser
    restore = getattr(new_browser, "restore", None)  # tests.support.shared: saved sign-ins
    if restore is not None and restore(browser, actor):
        return browser
    name, secret = SIGN_IN[actor]
    if actor.startswith("T") or actor == "A":
        sign_in_therapist(browser, name, secret)
    elif actor.startswith("G"):
        sign_in_guardian(browser, name, secret)
    else:
        sign_in_child(browser, name, secret)
    return browser
