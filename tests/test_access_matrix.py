"""The access matrix (AZ-01, AZ-02): every route × every kind of person, in one declarative table.

Each (endpoint, method) of `app.url_map` has a row saying who may use it (its classification) and
the exact answer each actor gets. Ids in URLs are case1's real ids, so for G2, T2 and the admin they
name another family's objects, and for C1 a grown-up's page. The tests fail when:

- a rule has no row, or a row names a rule that no longer exists;
- an actor's answer differs from the table, and in particular any 2xx that the table does not list;
- an anonymous request to a non-public route gets anything but "please sign in"
  (302 → /login for a page, 401 with HX-Redirect for htmx);
- a route never answered with success to anybody during the run (Zulip's untested-URL gate).

POSTs carry a valid CSRF token and a valid form, so each answer is about authorization.
The scene is built once for the module (tests/support/shared.py); every cell runs in its own
savepoint, rolled back afterwards: no cell's changes leak into the next.

The table itself, the scene and the helpers are in tests/support/ (matrix.py, scene.py).
A new route needs a row (and a success for someone). If its URL has a new argument, say which
object of the scene fills it (COMMON_ARGUMENTS or URL_ARGUMENTS) and add that object to the scene;
if it takes a POST, put a form that succeeds for the allowed actor in FORMS.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.support.browser import Browser
from tests.support.matrix import (
    ACTORS,
    IN,
    IN_CHILD_MODE,
    MATRIX,
    NEW_PASSWORD,
    NORMAL,
    PUBLIC,
    Row,
    check_answer,
    enter_state,
    form_for,
    route_keys,
)
from tests.support.people import sign_in
from tests.support.rows import World
from tests.support.scene import Scene
from tests.support.shared import (  # noqa: F401 - the module's fixtures (one scene, savepoints)
    savepoint_session,
    scene_built_once,
    scene_in_savepoint,
    signed_in_browsers,
    world_in_savepoint,
)

# What the coverage gate sees: which cells ran, and which routes answered someone with success.
CELLS = [(row, actor) for row in MATRIX for actor in ACTORS]
RAN: set[tuple[str, str, str, str]] = set()
EXERCISED: set[tuple[str, str]] = set()


def _cell_id(row: Row, actor: str) -> tuple[str, str, str, str]:
    return (row.endpoint, row.method, row.state, actor)


# --- The table is complete and consistent ---------------------------------------------------------


def test_AZ01_every_rule_in_the_url_map_has_a_row(app: Flask) -> None:
    rows = {r.key for r in MATRIX}
    missing = sorted(route_keys(app) - rows)
    assert not missing, f"routes with no row in the access matrix: {missing}"


def test_AZ01_every_row_names_a_rule_that_exists(app: Flask) -> None:
    stale = sorted({r.key for r in MATRIX} - route_keys(app))
    assert not stale, f"matrix rows for routes that no longer exist: {stale}"


def test_AZ01_each_route_and_state_has_one_row() -> None:
    seen = [(r.endpoint, r.method, r.state) for r in MATRIX]
    assert len(seen) == len(set(seen))


def test_AZ01_public_rows_are_exactly_the_views_marked_public(app: Flask) -> None:
    for r in MATRIX:
        view = app.view_functions[r.endpoint]
        marked_public = bool(getattr(view, "is_public", False)) or r.endpoint == "static"
        assert (r.access is PUBLIC) == marked_public, f"{r}: classified {r.access.label}"


def test_AZ01_anonymous_is_sent_to_sign_in_on_every_non_public_row() -> None:
    for r in MATRIX:
        if r.access is not PUBLIC:
            assert r.cells["anon"] == IN, f"{r}: anonymous must be asked to sign in"


def test_AZ02_only_the_classified_actors_are_ever_allowed() -> None:
    for r in MATRIX:
        allowed = {actor for actor, expect in r.cells.items() if expect.allowed}
        assert allowed <= r.access.actors, f"{r}: {sorted(allowed - r.access.actors)} not in class"


def test_AZ01_every_route_has_someone_who_may_use_it() -> None:
    for key in {r.key for r in MATRIX} - {("static", "GET")}:
        assert any(expect.allowed for r in MATRIX if r.key == key for expect in r.cells.values()), (
            f"{key}: no actor in the matrix may use it; add a happy path"
        )


# --- The matrix, cell by cell ---------------------------------------------------------------------


@pytest.mark.matrix
@pytest.mark.parametrize(
    ("row", "actor"), CELLS, ids=[f"{r.endpoint}-{r.method}-{r.state}-{a}" for r, a in CELLS]
)
def test_AZ02_role_route_matrix(
    app: Flask,
    db_session: Session,
    world: World,
    scene: Scene,
    new_browser: Callable[[], Browser],
    row: Row,
    actor: str,
) -> None:
    RAN.add(_cell_id(row, actor))
    browser = sign_in(new_browser, actor)
    enter_state(row.state, actor, browser, scene, app)
    url = scene.url(app, row)
    form = form_for(row, scene)
    response = browser.get(url) if row.method == "GET" else browser.post(url, form)
    expected = row.cells[actor]
    with response:  # static files are streamed; close them
        check_answer(response, expected, scene, actor, f"{row.method} {url} [{row.state}]")
    if expected.allowed:
        EXERCISED.add(row.key)


NON_PUBLIC = [r for r in MATRIX if r.access is not PUBLIC and r.state == NORMAL]


@pytest.mark.parametrize("row", NON_PUBLIC, ids=[f"{r.endpoint}-{r.method}" for r in NON_PUBLIC])
def test_AZ01_anonymous_htmx_request_gets_401_with_hx_redirect(
    app: Flask, scene: Scene, browser: Browser, row: Row
) -> None:
    url = scene.url(app, row)
    response = browser.htmx(row.method, url, form_for(row, scene))
    assert response.status_code == 401, f"{row}: {response.status_code}"
    assert urlsplit(response.headers["HX-Redirect"]).path == "/login"
    assert "SENTINEL" not in response.get_data(as_text=True)


@pytest.mark.matrix  # every route x every undeclared method x four people
@pytest.mark.parametrize("actor", ["anon", "G1", "T1", "A"])
def test_AZ02_methods_a_route_does_not_declare_answer_405(
    app: Flask, scene: Scene, new_browser: Callable[[], Browser], actor: str
) -> None:
    browser = sign_in(new_browser, actor)
    token = browser.ensure_token()
    adapter = app.url_map.bind("localhost")
    urls = {scene.url(app, r) for r in MATRIX if r.state == NORMAL}
    for url in sorted(urls):
        declared = set(adapter.allowed_methods(url))
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - declared):
            response = browser.client.open(url, method=method, headers={"X-CSRFToken": token})
            assert response.status_code == 405, f"{actor} {method} {url}: {response.status_code}"


@pytest.mark.matrix  # every GET route x five people
@pytest.mark.parametrize("actor", ["anon", "C1", "G1", "T1", "A"])
def test_AZ02_head_answers_exactly_like_get(
    app: Flask, scene: Scene, new_browser: Callable[[], Browser], actor: str
) -> None:
    browser = sign_in(new_browser, actor)
    for r in MATRIX:
        if r.method == "GET" and r.state == NORMAL:
            url = scene.url(app, r)
            with browser.client.head(url) as response:
                check_answer(response, r.cells[actor], scene, actor, f"HEAD {url}")


def test_AZ01_anonymous_options_requests_are_sent_to_sign_in(
    app: Flask, scene: Scene, browser: Browser
) -> None:
    for r in NON_PUBLIC:
        url = scene.url(app, r)
        response = browser.client.options(url)
        assert response.status_code == 302, f"OPTIONS {url}: {response.status_code}"
        assert urlsplit(response.headers["Location"]).path == "/login"


# While a guardian has handed the device to their child, only these answer (security.py).
CHILD_MODE_REACHABLE = {
    "child.home",
    "child.care_assent",
    "child.leave",
    "auth.logout",
    "static",
    "plans.child_plan",
    "plans.assent",
    "plans.rate_goal",
    "feedback.child_feedback",
    "ladders.child_ladder",
    "ladders.practice_form",
    "ladders.log_practice",
    "ladders.well_done",
    "ladders.child_suggest_step",
    "ladders.ask_reward",
    "ladders.cheers_seen",
}


def test_AZ02_in_child_mode_every_grown_up_route_leads_back_to_the_child(
    app: Flask, db_session: Session, world: World, scene: Scene, browser: Browser
) -> None:
    browser.login("g1@family.test")
    enter_state(IN_CHILD_MODE, "G1", browser, scene, app)
    for r in NON_PUBLIC:
        if r.endpoint in CHILD_MODE_REACHABLE:
            continue
        url = scene.url(app, r)
        data = form_for(r, scene)
        response = browser.get(url) if r.method == "GET" else browser.post(url, data)
        assert response.status_code == 302, f"{r}: {response.status_code}"
        assert response.headers["Location"] == "/me", f"{r}: {response.headers['Location']}"
        fragment = browser.htmx(r.method, url, data)
        assert fragment.status_code == 204, f"{r} (htmx): {fragment.status_code}"
        assert fragment.headers["HX-Redirect"] == "/me"
    assert browser.get("/me").status_code == 200  # still the child's screen, nothing changed


def test_AZ01_invalid_token_links_answer_404_to_everyone(
    new_browser: Callable[[], Browser], world: World
) -> None:
    bogus = secrets.token_urlsafe(32)
    for actor in ACTORS:
        browser = sign_in(new_browser, actor)
        for url in (
            f"/invite/{bogus}",
            f"/account/setup/{bogus}",
            f"/account/email/confirm/{bogus}",
            f"/account/email/cancel/{bogus}",
        ):
            response = browser.get(url)
            assert response.status_code == 404, f"{actor} {url}"
            assert "This link does not work any more" in response.get_data(as_text=True)
            posted = browser.post(url, {"new_password": NEW_PASSWORD})
            assert posted.status_code == 404, f"{actor} POST {url}"


def test_AZ01_missing_static_file_is_404(browser: Browser) -> None:
    assert browser.get("/static/vendor/no-such-file.js").status_code == 404
    assert browser.get("/static/../portal/config.py").status_code == 404


def test_AZ01_gate_every_route_answered_success_to_someone(app: Flask) -> None:
    """Zulip-style: a route that nobody ever used successfully in the matrix run is untested.

    Runs last in this module; when only part of the matrix ran (-k, a single cell), it skips.
    """
    if len(RAN) < len(CELLS):
        pytest.skip(f"only {len(RAN)} of {len(CELLS)} matrix cells ran")
    never = sorted(key for key in route_keys(app) - EXERCISED if key[0] != "static")
    assert not never, f"routes never exercised with a success answer: {never}"
