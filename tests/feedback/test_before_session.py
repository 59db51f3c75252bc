"""Before the session (issue 14): one page of what happened since the last session, every number
linked to its evidence, and an agenda only the case's therapists ever see."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Flask
from sqlalchemy.orm import Session

from portal.db import bound, utcnow
from portal.feedback import services
from portal.models.feedback import SessionMode, SessionStatus
from tests.support.browser import Browser
from tests.support.rows import World

AGENDA = "SENTINEL_F1_AGENDA_Ask_about_bedtime_first_7c7c"


def _history(app: Flask, db: Session, world: World) -> int:
    """Two sessions Gwen came to: 8/10 after the first, 4/10 after the last; a weekly check-in."""
    world.link1.valid_from = utcnow() - timedelta(days=30)
    came = {services.guardian_key(world.g1.id): SessionMode.IN_PERSON}
    with app.test_request_context(), bound(db):
        ids = []
        for days_ago, overall in ((10, 8), (3, 4)):
            session = services.do_record_session(
                world.t1,
                world.case1,
                starts_at=utcnow() - timedelta(days=days_ago),
                mode=SessionMode.IN_PERSON,
                status=SessionStatus.HELD,
                attendance=came,
            )
            answer = services.do_submit_guardian_feedback(
                world.g1,
                world.case1,
                session,
                heard=overall,
                matters=overall,
                approach=overall,
                overall=overall,
                comment="We want to talk about bedtime." if overall == 4 else "",
                idempotency_key=str(uuid.uuid4()),
            )
            answer.created_at = session.starts_at + timedelta(hours=2)
            ids.append(answer.id)
        db.commit()
    return ids[-1]


def test_the_page_gathers_what_happened_since_the_last_session_with_links_to_evidence(
    app: Flask, browser: Browser, world: World, db_session: Session
) -> None:
    latest = _history(app, db_session, world)
    browser.login("t1@clinic.test")
    page = browser.get(f"/cases/{world.case1.id}/before-session").get_data(as_text=True)
    assert "Since the last session" in page
    assert f'/cases/{world.case1.id}/feedback#feedback-{latest}">overall 4/10</a>' in page
    assert "(down 4)" in page and "We want to talk about bedtime." in page
    assert "dropped 4 points" in page  # the open alert, linking to what raised it
    assert "No fear ladder yet." in page


def test_the_agenda_is_saved_kept_on_error_and_never_shown_to_the_family(
    app: Flask, browser: Browser, new_browser, world: World, db_session: Session
) -> None:
    _history(app, db_session, world)
    browser.login("t1@clinic.test")
    url = f"/cases/{world.case1.id}/before-session"
    too_long = browser.post(f"{url}/agenda", {"text": AGENDA + "x" * 2001})
    assert too_long.status_code == 422
    assert "under 2,000 characters" in too_long.get_data(as_text=True)
    assert AGENDA in too_long.get_data(as_text=True)  # what was typed is kept
    saved = browser.post(f"{url}/agenda", {"text": AGENDA})
    assert saved.status_code == 303
    assert AGENDA in browser.get(url).get_data(as_text=True)

    gwen = new_browser()
    gwen.login("g1@family.test")
    assert gwen.get(url).status_code == 404
    for page in (f"/family/{world.case1.id}", f"/family/{world.case1.id}/checkins", "/family"):
        assert AGENDA not in gwen.get(page, follow_redirects=True).get_data(as_text=True)
    other = new_browser()
    other.login("t2@clinic.test")
    assert other.get(url).status_code == 404
    assert other.post(f"{url}/agenda", {"text": "mine now"}).status_code == 404
