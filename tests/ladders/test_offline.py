"""Working offline (issue 15), the server's part: the service worker is ours and served from the
site, and every page names its viewer so the worker never keeps one person's pages for another."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.ladders.offline import VIEWER_HEADER
from portal.models.ladders import PracticeAttempt
from tests.support.browser import Browser
from tests.support.builders import a_ladder
from tests.support.rows import PIN, World, born_years_ago
from tests.support.session import services_on


def test_the_service_worker_is_served_from_our_origin_under_the_csp(browser: Browser) -> None:
    worker = browser.get("/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in worker.headers["Content-Security-Policy"]
    assert "rapport-pages" in worker.get_data(as_text=True)
    worker.close()
    manifest = browser.get("/static/manifest.webmanifest")
    assert manifest.status_code == 200 and b'"start_url": "/me"' in manifest.data
    manifest.close()


def test_each_page_names_its_viewer_and_nobody_elses(
    world: World, new_browser: Callable[[], Browser]
) -> None:
    anonymous = new_browser().get("/login/kids")
    assert anonymous.headers[VIEWER_HEADER] == ""  # nobody: the worker drops every kept page
    child, other_child, guardian = new_browser(), new_browser(), new_browser()
    child.login("cody1", PIN)
    other_child.login("cara2", PIN)
    guardian.login("g1@family.test")
    tags = {
        who: b.get(path).headers[VIEWER_HEADER]
        for who, b, path in (
            ("cody", child, "/me"),
            ("cara", other_child, "/me"),
            ("g1", guardian, "/family"),
        )
    }
    assert all(tags.values()) and len(set(tags.values())) == 3
    assert child.get("/me/ladder").headers[VIEWER_HEADER] == tags["cody"]  # stable per person
    page = child.get("/me").get_data(as_text=True)
    assert f'<meta name="rapport-viewer" content="{tags["cody"]}">' in page
    assert "cody" not in tags["cody"] and str(world.c1.id) != tags["cody"]  # opaque
    # A guardian handing the device to the child is another viewer than the guardian alone.
    guardian.post(f"/family/{world.case1.id}/child-mode")
    assert guardian.get("/me").headers[VIEWER_HEADER] not in tags.values()


def test_a_young_childs_ladder_names_the_screens_she_needs_offline(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    """Maya's ladder names the screens of her current step and the celebration for a try kept
    on the device; each answers for her (the worker keeps them under her viewer tag)."""
    world.case1.child.date_of_birth = born_years_ago(6)
    world.case1.child.user_id = None
    db_session.commit()
    with services_on(app, db_session):
        _, steps = a_ladder(world.t1, world.case1, (2, 3, 6))
    browser.login("g1@family.test")
    assert browser.post(f"/family/{world.case1.id}/child-mode").status_code == 303
    ladder = browser.get("/me/ladder")
    viewer = ladder.headers[VIEWER_HEADER]
    kept = re.search(r'data-offline-keep="([^"]+)"', ladder.get_data(as_text=True))
    assert kept
    pages = kept.group(1).replace("&amp;", "&").split()
    first = f"/me/ladder/steps/{steps[0].id}"
    assert pages == [
        "/me",
        f"{first}?stage=do&before=0",
        f"{first}?stage=peak&before=0",
        f"{first}?stage=how&before=0&peak=0",
        "/me/ladder/well-done?on_device=1",
    ]  # only the open step: a locked one is never offered
    for page in pages:
        response = browser.get(page)
        assert response.status_code == 200 and response.headers[VIEWER_HEADER] == viewer
    how = browser.get(pages[3]).get_data(as_text=True)
    assert "data-young-flow" in how  # the page takes its answers from its own address
    assert 'name="offline_next" value="/me/ladder/well-done?on_device=1"' in how
    saved = browser.get(pages[4]).get_data(as_text=True)
    assert "You did it!" in saved and "on-device.svg" in saved
    assert 'id="offline-notice" role="status" hidden' in saved  # shown only while a try waits
    assert "jar-item" not in saved and "in all" not in saved  # no count it cannot know
    assert db_session.scalar(select(func.count(PracticeAttempt.id))) == 0


def test_an_older_childs_ladder_names_no_young_screens(world: World, browser: Browser) -> None:
    browser.login("cody1", PIN)
    assert "data-offline-keep" not in browser.get("/me/ladder").get_data(as_text=True)
