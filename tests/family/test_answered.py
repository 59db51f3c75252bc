"""Issue 13: an answered check-in opens showing its answer, can be changed for 24 hours, then is
read-only; nothing typed is thrown away."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from flask import Flask, g
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.feedback import services as feedback
from portal.models.feedback import SessionFeedback, SessionMode, SessionStatus, WeeklyCheckin
from tests.support.browser import Browser
from tests.support.rows import World


def _sent_feedback(app: Flask, db_session: Session, world: World) -> SessionFeedback:
    with app.test_request_context():
        g.db_session = db_session
        session = feedback.do_record_session(
            world.t1,
            world.case1,
            starts_at=utcnow() - timedelta(days=1),
            mode=SessionMode.VIDEO,
            status=SessionStatus.HELD,
            attendance={feedback.guardian_key(world.g1.id): SessionMode.VIDEO},
        )
        sent = feedback.do_submit_guardian_feedback(
            world.g1,
            world.case1,
            session,
            heard=7,
            matters=6,
            approach=8,
            overall=7,
            comment="The worksheet helped",
            idempotency_key=str(uuid.uuid4()),
        )
        db_session.commit()
        g.pop("db_session")
    return sent


def _key(page: str) -> str:
    found = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_an_answered_form_opens_with_the_answer_and_can_be_changed_within_24_hours(
    app: Flask, db_session: Session, browser: Browser, world: World
) -> None:
    sent = _sent_feedback(app, db_session, world)
    sent.read_at, sent.read_by_id = utcnow(), world.t1.id
    db_session.commit()
    browser.login("g1@family.test")
    url = f"/family/{world.case1.id}/sessions/{sent.session_id}/feedback"
    page = browser.get(url).get_data(as_text=True)
    assert "You answered on" in page and "You can change your answer until" in page
    assert "The worksheet helped" in page
    assert re.search(r'<input checked id="overall-7"|id="overall-7"[^>]*checked', page)
    changed = browser.post(
        url,
        {
            "idempotency_key": _key(page),
            "heard": "7",
            "matters": "6",
            "approach": "8",
            "overall": "9",
            "comment": "The worksheet helped a lot",
        },
    )
    assert changed.status_code == 303
    db_session.expire_all()
    again = db_session.get(SessionFeedback, sent.id)
    assert again is not None and again.overall == 9 and again.edited_at is not None
    assert again.read_at is None  # the therapist has not read the changed answer


def test_after_24_hours_the_answer_is_read_only_and_a_late_change_keeps_what_was_typed(
    app: Flask, db_session: Session, browser: Browser, world: World
) -> None:
    sent = _sent_feedback(app, db_session, world)
    sent.created_at = utcnow() - timedelta(hours=25)
    db_session.commit()
    browser.login("g1@family.test")
    url = f"/family/{world.case1.id}/sessions/{sent.session_id}/feedback"
    page = browser.get(url).get_data(as_text=True)
    assert "The worksheet helped" in page and "Save changes" not in page
    late = browser.post(
        url,
        {
            "idempotency_key": str(uuid.uuid4()),
            "heard": "1",
            "matters": "1",
            "approach": "1",
            "overall": "1",
            "comment": "TYPED_TOO_LATE",
        },
    )
    assert late.status_code == 422
    assert "TYPED_TOO_LATE" in late.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(SessionFeedback, sent.id).overall == 7  # type: ignore[union-attr]


def test_a_sent_weekly_check_in_opens_with_its_answers_and_can_be_changed(
    browser: Browser, world: World, db_session: Session
) -> None:
    browser.login("g1@family.test")
    url = f"/family/{world.case1.id}/checkins"
    page = browser.get(url).get_data(as_text=True)
    week = feedback.checkin_week_due().isoformat()
    form = {
        "idempotency_key": _key(page),
        "week": week,
        "practice_days": "3",
        "difficulty": "6",
        "accommodations": "",
        "reducing": "",
        "observation": "A calm Tuesday",
    }
    assert browser.post(f"/family/{world.case1.id}/checkin", form).status_code == 303
    page = browser.get(url).get_data(as_text=True)
    assert "A calm Tuesday" in page and "You can change it until" in page
    changed = {**form, "idempotency_key": _key(page), "practice_days": "4"}
    assert browser.post(f"/family/{world.case1.id}/checkin", changed).status_code == 303
    checkins = db_session.scalars(select(WeeklyCheckin)).all()
    assert [(c.practice_days, c.observation) for c in checkins] == [(4, "A calm Tuesday")]
