"""Feedback over HTTP: asked, heard and answered; each guardian's words stay between them and the
therapists."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import db
from portal.db import utcnow
from portal.feedback import services
from portal.models import Role
from portal.models.feedback import SessionFeedback, SessionMode, SessionStatus, TherapySession
from tests.support.browser import Browser
from tests.support.rows import PIN, World, link_guardian, make_user

SECRET_WORDS = "SENTINEL_F1_GWEN_PRIVATE_FEEDBACK_5a5a"


@pytest.fixture()
def held(app: Flask, db_session: Session, world: World) -> TherapySession:
    with app.test_request_context(), db.bound(db_session):
        session = services.do_record_session(
            world.t1,
            world.case1,
            starts_at=utcnow() - timedelta(days=1),
            mode=SessionMode.VIDEO,
            status=SessionStatus.HELD,
            attendance={
                services.guardian_key(world.g1.id): SessionMode.VIDEO,
                services.child_key(world.case1): SessionMode.VIDEO,
            },
        )
        db_session.commit()
    return session


def _form(browser: Browser, url: str) -> dict[str, str]:
    page = browser.get(url).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)
    assert key, page[:400]
    return {"idempotency_key": key.group(1)}


def test_the_loop_guardian_rates_low_therapist_sees_the_alert_and_answers_guardian_sees_it(
    browser: Browser, new_browser, world: World, db_session: Session, held: TherapySession
) -> None:
    browser.login("g1@family.test")
    family_page = browser.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert "What needs you" in family_page and "How was the session of" in family_page
    url = f"/family/{world.case1.id}/sessions/{held.id}/feedback"
    form = _form(browser, url)
    sent = browser.post(
        url,
        {
            **form,
            "heard": "2",
            "matters": "5",
            "approach": "5",
            "overall": "3",
            "comment": SECRET_WORDS,
        },
    )
    assert sent.status_code == 303

    therapist = new_browser()
    therapist.login("t1@clinic.test")
    caseload = therapist.get("/caseload").get_data(as_text=True)
    assert "Rupture or low rating" in caseload and "Gwen One rated low" in caseload
    page = therapist.get(f"/cases/{world.case1.id}/feedback").get_data(as_text=True)
    assert SECRET_WORDS in page
    feedback = db_session.scalars(select(SessionFeedback)).one()
    answered = therapist.post(
        f"/cases/{world.case1.id}/feedback/{feedback.id}/answer",
        {"answer": "We will start each session with your questions."},
    )
    assert answered.status_code == 303
    family = browser.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert (
        "You said, we did" in family and "We will start each session with your questions." in family
    )
    # Who answered, and the session the words were about.
    said = "<strong>Dr. Tess One:</strong> We will start each session with your questions."
    assert said in family
    assert re.search(r"About the session of \w+ \d+, you wrote: “", family)


def test_a_double_submit_stores_one_answer(
    browser: Browser, world: World, db_session: Session, held: TherapySession
) -> None:
    browser.login("g1@family.test")
    url = f"/family/{world.case1.id}/sessions/{held.id}/feedback"
    form = {**_form(browser, url), "heard": "8", "matters": "8", "approach": "8", "overall": "8"}
    assert browser.post(url, form).status_code == 303
    assert browser.post(url, form).status_code == 303
    assert db_session.scalar(select(func.count()).select_from(SessionFeedback)) == 1


def test_bad_input_gets_a_clear_answer_and_keeps_what_was_typed(
    browser: Browser, world: World, db_session: Session, held: TherapySession
) -> None:
    browser.login("g1@family.test")
    url = f"/family/{world.case1.id}/sessions/{held.id}/feedback"
    form = {
        **_form(browser, url),
        "heard": "12",
        "matters": "8",
        "approach": "8",
        "comment": "Please keep this text",
    }
    response = browser.post(url, form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose a number from 0 to 10." in page
    assert "Please keep this text" in page
    assert db_session.scalar(select(func.count()).select_from(SessionFeedback)) == 0


def test_no_feedback_form_for_a_missed_session(
    app: Flask, browser: Browser, world: World, db_session: Session
) -> None:
    with app.test_request_context(), db.bound(db_session):
        missed = services.do_record_session(
            world.t1,
            world.case1,
            starts_at=utcnow() - timedelta(days=2),
            mode=SessionMode.IN_PERSON,
            status=SessionStatus.MISSED,
            attendees="",
        )
        db_session.commit()
    browser.login("g1@family.test")
    url = f"/family/{world.case1.id}/sessions/{missed.id}/feedback"
    assert browser.get(url).status_code == 404
    response = browser.post(
        url,
        {
            "idempotency_key": str(uuid.uuid4()),
            "heard": "8",
            "matters": "8",
            "approach": "8",
            "overall": "8",
        },
    )
    assert response.status_code == 422 and "marked missed" in response.get_data(as_text=True)


def test_the_other_guardian_and_the_child_never_see_a_guardians_feedback(
    browser: Browser, new_browser, world: World, db_session: Session, held: TherapySession
) -> None:
    dad = make_user(db_session, Role.GUARDIAN, "Dev One", email="dev@family.test")
    link_guardian(db_session, world.case1, dad, household="Dad's house", relationship="Father")
    db_session.commit()
    browser.login("g1@family.test")
    url = f"/family/{world.case1.id}/sessions/{held.id}/feedback"
    browser.post(
        url,
        {
            **_form(browser, url),
            "heard": "6",
            "matters": "6",
            "approach": "6",
            "overall": "6",
            "comment": SECRET_WORDS,
        },
    )
    other = new_browser()
    other.login("dev@family.test")
    for page_url in (
        f"/family/{world.case1.id}",
        f"/family/{world.case1.id}/checkins",
        f"/family/{world.case1.id}/plan",
    ):
        assert SECRET_WORDS not in other.get(page_url).get_data(as_text=True)
    assert other.get(f"/cases/{world.case1.id}/feedback").status_code == 404
    child = new_browser()
    child.login("cody1", PIN)
    assert SECRET_WORDS not in child.get("/me").get_data(as_text=True)
    assert child.get(f"/cases/{world.case1.id}/feedback").status_code == 404


def test_the_child_answers_with_faces(
    new_browser, world: World, db_session: Session, held: TherapySession
) -> None:
    child = new_browser()
    child.login("cody1", PIN)
    home = child.get("/me").get_data(as_text=True)
    assert "How was your session?" in home
    url = f"/me/sessions/{held.id}/feedback"
    page = child.get(url).get_data(as_text=True)
    assert page.count('class="face-button"') == 5  # faces-5 for an 8-12 year old
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)
    assert key
    assert child.post(url, {"idempotency_key": key.group(1), "raw": "4"}).status_code == 303
    stored = db_session.scalars(select(SessionFeedback)).one()
    assert (stored.child_raw, stored.overall, stored.on_behalf_of_child) == (4, 8, False)
    assert "How was your session?" not in child.get("/me").get_data(as_text=True)


def test_weekly_checkin_and_trend_table(
    browser: Browser, new_browser, world: World, db_session: Session
) -> None:
    browser.login("g1@family.test")
    url = f"/family/{world.case1.id}/checkins"
    page = browser.get(url).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)
    week = re.search(r'name="week" type="hidden" value="([^"]+)"', page)
    assert key and week
    sent = browser.post(
        f"/family/{world.case1.id}/checkin",
        {
            "idempotency_key": key.group(1),
            "week": week.group(1),
            "practice_days": "4",
            "difficulty": "6",
            "accommodations": "Stayed close at bedtime",
            "reducing": "Staying close",
            "observation": "Slept alone once",
        },
    )
    assert sent.status_code == 303
    assert "You sent the check-in" in browser.get(url).get_data(as_text=True)
    therapist = new_browser()
    therapist.login("t1@clinic.test")
    trends = therapist.get(f"/cases/{world.case1.id}/feedback").get_data(as_text=True)
    assert "<svg" in trends and "Show as a table" in trends and "Slept alone once" in trends


def _scale_words(page: str) -> dict[str, tuple[str, str]]:
    """Each 0-10 question with the words printed at its two ends."""
    found = re.findall(
        r"<legend>(.*?)</legend>.*?"
        r"<p class=\"scale-ends hint\"><span>(.*?)</span><span>(.*?)</span>",
        page,
        flags=re.S,
    )
    return {question: (low, high) for question, low, high in found}


def test_every_scale_says_the_same_words_as_its_question(
    browser: Browser, world: World, held: TherapySession
) -> None:
    """Issue 13: the weekly check-in asked "0 = easy, 10 = very hard" over "not at all /
    completely"; now each scale carries its own ends and the question no second, different set."""
    browser.login("g1@family.test")
    weekly = _scale_words(browser.get(f"/family/{world.case1.id}/checkins").get_data(as_text=True))
    assert weekly == {"How hard was the week for the family?": ("0 = easy", "10 = very hard")}
    session = _scale_words(
        browser.get(f"/family/{world.case1.id}/sessions/{held.id}/feedback").get_data(as_text=True)
    )
    assert session["Overall, how helpful was this session?"] == (
        "0 = not helpful",
        "10 = very helpful",
    )
    assert session["I felt heard and understood"] == ("0 = not at all", "10 = completely")
    for question in (*weekly, *session):
        assert "0 =" not in question  # the words live at the ends, once


def test_recording_a_session_names_who_came_and_only_they_are_asked(
    browser: Browser, new_browser, world: World, db_session: Session
) -> None:
    dad = make_user(db_session, Role.GUARDIAN, "Dan One", email="dan1@family.test")
    link_guardian(db_session, world.case1, dad, household="Dad's flat", relationship="Father")
    world.link1.valid_from = utcnow() - timedelta(days=30)
    db_session.commit()
    browser.login("t1@clinic.test")
    url = f"/cases/{world.case1.id}/sessions"
    assert f'name="attend-guardian-{dad.id}"' in browser.get(url).get_data(as_text=True)
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    form = {"day": yesterday, "time": "10:00", "mode": "video", "status": "held"}
    nobody = browser.post(url, {**form, "attendees": "An interpreter"})
    page = nobody.get_data(as_text=True)
    assert nobody.status_code == 422
    assert "Say who came" in page and "An interpreter" in page
    odd = browser.post(url, {**form, f"attend-guardian-{world.g1.id}": "by pigeon"})
    assert odd.status_code == 422
    assert db_session.scalar(select(func.count()).select_from(TherapySession)) == 0

    saved = browser.post(
        url,
        {
            **form,
            f"attend-guardian-{world.g1.id}": "video",
            f"attend-child-{world.case1.child_id}": "in_person",
            "next_day": (utcnow() + timedelta(days=6)).date().isoformat(),
            "next_time": "16:00",
        },
    )
    assert saved.status_code == 303
    assert "A check-in goes to the guardian who came" in browser.get(url).get_data(as_text=True)
    held = db_session.scalars(
        select(TherapySession).where(TherapySession.status == SessionStatus.HELD)
    ).one()
    assert sorted((row.attendee_key, row.mode.value) for row in held.attendance) == sorted(
        [(f"guardian:{world.g1.id}", "video"), (f"child:{world.case1.child_id}", "in_person")]
    )
    assert db_session.scalars(
        select(TherapySession).where(TherapySession.status == SessionStatus.SCHEDULED)
    ).one()

    gwen = new_browser()
    gwen.login("g1@family.test")
    assert f"/sessions/{held.id}/feedback" in gwen.get(
        f"/family/{world.case1.id}/checkins"
    ).get_data(as_text=True)
    dan = new_browser()
    dan.login("dan1@family.test")
    assert f"/sessions/{held.id}/feedback" not in dan.get(
        f"/family/{world.case1.id}/checkins"
    ).get_data(as_text=True)
    refused = dan.post(
        f"/family/{world.case1.id}/sessions/{held.id}/feedback",
        {
            "idempotency_key": str(uuid.uuid4()),
            "heard": "1",
            "matters": "1",
            "approach": "1",
            "overall": "1",
        },
    )
    assert refused.status_code == 422
    assert "not recorded at this session" in refused.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(SessionFeedback)) == 0


def test_after_the_session_one_form_records_it_sets_the_next_and_sends_one_cheer(
    app: Flask, browser: Browser, world: World, db_session: Session
) -> None:
    from portal.models import Cheer
    from tests.support.builders import a_ladder, practice
    from tests.support.session import services_on

    with services_on(app, db_session):
        _ladder, steps = a_ladder(world.t1, world.case1, (2, 3.5))
        latest = practice(world.c1, world.case1, steps[0], peak=3).attempt
    browser.login("t1@clinic.test")
    url = f"/cases/{world.case1.id}/sessions"
    assert "Send a cheer with it" in browser.get(url).get_data(as_text=True)
    # Three hours ago on the clinic's clock (the form is in the clinic's time: a UTC date at
    # "00:00" was still to come in New York every evening).
    held = utcnow().astimezone(ZoneInfo("America/New_York")) - timedelta(hours=3)
    saved = browser.post(
        url,
        {
            "day": held.date().isoformat(),
            "time": held.strftime("%H:00"),
            "mode": "in_person",
            "status": "held",
            f"attend-child-{world.case1.child_id}": "in_person",
            "next_day": (utcnow() + timedelta(days=7)).date().isoformat(),
            "next_time": "16:00",
            "cheer_sticker": "🦁",
            "cheer_message": "Brave work today, Cody!",
        },
    )
    assert saved.status_code == 303
    cheer = db_session.scalars(select(Cheer)).one()
    assert (cheer.attempt_id, cheer.sticker, cheer.message) == (
        latest.id,
        "🦁",
        "Brave work today, Cody!",
    )
    statuses = sorted(s.status.value for s in db_session.scalars(select(TherapySession)))
    assert statuses == ["held", "scheduled"]
