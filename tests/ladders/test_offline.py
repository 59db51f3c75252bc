"""Working offline (issue 15), the server's part: the service worker is ours and served from the
site, and every page names its viewer so the worker never keeps one person's pages for another."""

from __future__ import annotations

from collections.abc import Callable

from portal.ladders.offline import VIEWER_HEADER
from tests.support.browser import Browser
from tests.support.rows import PIN, World


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
