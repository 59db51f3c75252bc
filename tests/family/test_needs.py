"""Issue 13: "What needs you" lists what waits for this guardian, and only while it waits; the
navigation badge counts exactly the same things; every status a family sees is a recorded fact."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import Flask, g
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.family.needs import needs_of
from portal.feedback import services as feedback
from portal.models import FamilyNote, NoteMood, User
from portal.models.feedback import SessionFeedback, SessionMode, SessionStatus, TherapySession
from portal.models.plans import ResponseKind
from portal.plans import services as plans
from tests.support.browser import Browser
from tests.support.builders import proposed_plan
from tests.support.rows import World


@contextmanager
def services_for(app: Flask, db_session: Session) -> Iterator[Session]:
    """Call services in a request context of their own, then leave it (browsers make their own)."""
    with app.test_request_context():
        g.db_session = db_session
        yield db_session
        db_session.commit()
        g.pop("db_session")


def _kinds(user: User) -> list[str]:
    g.pop("guardian_needs", None)  # a fresh read, as on the next request
    return [need.kind for need in needs_of(user)]


def _held(world: World, days_ago: int = 1) -> TherapySession:
    return feedback.do_record_session(
        world.t1,
        world.case1,
        starts_at=utcnow() - timedelta(days=days_ago),
        mode=SessionMode.IN_PERSON,
        status=SessionStatus.HELD,
        attendance={
            feedback.guardian_key(world.g1.id): SessionMode.IN_PERSON,
            feedback.child_key(world.case1): SessionMode.IN_PERSON,
        },
    )


def _send_weekly(world: World) -> None:
    feedback.do_submit_checkin(
        world.g1,
        world.case1,
        feedback.CheckinInput(feedback.checkin_week_due(), 3, 4, "", "", ""),
        idempotency_key=str(uuid.uuid4()),
    )


def _answer_session(world: World, session: TherapySession) -> None:
    feedback.do_submit_guardian_feedback(
        world.g1,
        world.case1,
        session,
        heard=8,
        matters=8,
        approach=8,
        overall=8,
        comment="Good session",
        idempotency_key=str(uuid.uuid4()),
    )


def _badge(page: str) -> int:
    found = re.search(r'<span id="nav-needs"> <span class="count">(\d+)</span>', page)
    return int(found.group(1)) if found else 0


def test_a_proposed_version_waits_for_the_guardian_only_until_they_answer(
    in_app: Session, world: World
) -> None:
    plan = proposed_plan(world.t1, world.case1)
    assert _kinds(world.g1)[0] == "plan"  # the most urgent thing comes first
    plans.do_guardian_response(world.g1, plan, world.case1, kind=ResponseKind.ACCEPT, comment="")
    assert "plan" not in _kinds(world.g1)


def test_a_version_is_not_waiting_for_a_guardian_of_another_family(
    in_app: Session, world: World
) -> None:
    proposed_plan(world.t1, world.case1)
    assert "plan" not in _kinds(world.g2)


def test_a_held_session_waits_for_a_check_in_until_it_is_sent(
    in_app: Session, world: World
) -> None:
    session = _held(world)
    assert "session" in _kinds(world.g1)
    _answer_session(world, session)
    assert "session" not in _kinds(world.g1)


def test_a_planned_session_asks_for_no_check_in(in_app: Session, world: World) -> None:
    feedback.do_record_session(
        world.t1,
        world.case1,
        starts_at=utcnow() + timedelta(days=2),
        mode=SessionMode.VIDEO,
        status=SessionStatus.SCHEDULED,
        attendees="",
    )
    assert "session" not in _kinds(world.g1)


def _second_parent(db: Session, world: World, joined_days_ago: int, name: str = "Dan") -> User:
    from portal.models import Role
    from tests.support.rows import link_guardian, make_user

    dad = make_user(db, Role.GUARDIAN, f"{name} One", email=f"{name.lower()}1@family.test")
    link = link_guardian(db, world.case1, dad, household=f"{name}'s flat", relationship="Father")
    link.valid_from = utcnow() - timedelta(days=joined_days_ago)
    db.flush()
    db.expire(world.case1, ["guardian_links"])
    return dad


def _badge_count(user: User) -> int:
    """What the navigation badge shows: `needs_count()` is `len(needs_of(user))`."""
    g.pop("guardian_needs", None)
    return len(needs_of(user))


# --- the attendance rule: the same as `feedback.services.feedback_due` ----------------------------


def test_an_attending_guardian_is_asked_about_the_session_until_they_answer(
    in_app: Session, world: World
) -> None:
    session = _held(world)
    g.pop("guardian_needs", None)
    asked = [n for n in needs_of(world.g1) if n.kind == "session"]
    assert [n.ref_id for n in asked] == [session.id]
    assert feedback.feedback_due(world.case1, feedback.guardian_key(world.g1.id)) == [session]
    before = _badge_count(world.g1)
    _answer_session(world, session)
    assert "session" not in _kinds(world.g1)
    assert _badge_count(world.g1) == before - 1


def test_a_guardian_who_was_not_at_the_session_is_not_asked(in_app: Session, world: World) -> None:
    dad = _second_parent(in_app, world, joined_days_ago=30)
    _held(world)  # Gwen and the child came; Dan did not
    assert "session" in _kinds(world.g1)
    assert "session" not in _kinds(dad)
    assert feedback.feedback_due(world.case1, feedback.guardian_key(dad.id)) == []
    # Nor does it count on his badge: only the weekly check-in waits for him.
    assert _kinds(dad) == ["weekly"] and _badge_count(dad) == 1


def test_a_guardian_is_not_asked_about_a_session_from_before_they_joined(
    in_app: Session, world: World
) -> None:
    from portal.models.feedback import SessionAttendance

    _joined_a_month_ago(in_app, world)
    session = _held(world, days_ago=10)
    newcomer = _second_parent(in_app, world, joined_days_ago=3)
    # Attendance that names her although her current link began after the session (recorded on
    # an earlier link of hers, or by hand): the service refuses to record it, and even when the
    # row exists she is not asked.
    in_app.add(
        SessionAttendance(
            session_id=session.id,
            attendee_key=feedback.guardian_key(newcomer.id),
            guardian_id=newcomer.id,
            mode=SessionMode.IN_PERSON,
            recorded_by_id=world.t1.id,
        )
    )
    in_app.flush()
    in_app.expire(session, ["attendance"])
    assert feedback.feedback_due(world.case1, feedback.guardian_key(newcomer.id)) == []
    assert "session" not in _kinds(newcomer)
    # A session she came to after joining is asked about.
    recent = feedback.do_record_session(
        world.t1,
        world.case1,
        starts_at=utcnow() - timedelta(days=1),
        mode=SessionMode.VIDEO,
        status=SessionStatus.HELD,
        attendance={feedback.guardian_key(newcomer.id): SessionMode.VIDEO},
    )
    g.pop("guardian_needs", None)
    asked = [n.ref_id for n in needs_of(newcomer) if n.kind == "session"]
    assert asked == [recent.id]
    assert feedback.feedback_due(world.case1, feedback.guardian_key(newcomer.id)) == [recent]


def test_a_guardian_is_not_asked_about_a_week_from_before_they_joined(
    in_app: Session, world: World
) -> None:
    """The weekly branch follows the care scan and the reminders: a week that was over before the
    guardian joined is not theirs to report on."""
    newcomer = _second_parent(in_app, world, joined_days_ago=0)
    assert "weekly" not in _kinds(newcomer)
    veteran = _second_parent(in_app, world, joined_days_ago=30, name="Val")
    assert "weekly" in _kinds(veteran)


def _joined_a_month_ago(db: Session, world: World) -> None:
    world.link1.valid_from = utcnow() - timedelta(days=30)
    db.flush()


def test_the_weekly_check_in_waits_until_sent(in_app: Session, world: World) -> None:
    _joined_a_month_ago(in_app, world)
    assert "weekly" in _kinds(world.g1)
    _send_weekly(world)
    assert "weekly" not in _kinds(world.g1)


def test_the_family_page_lists_what_waits_and_the_badge_counts_the_same(
    app: Flask, db_session: Session, browser: Browser, world: World
) -> None:
    with services_for(app, db_session):
        _joined_a_month_ago(db_session, world)
        session = _held(world)
        proposed_plan(world.t1, world.case1)
    browser.login("g1@family.test")
    page = browser.get(f"/family/{world.case1.id}").get_data(as_text=True)
    items = re.findall(r'<li class="need need-(\w+)"', page)
    assert items == ["plan", "session", "weekly"]
    assert _badge(page) == 3
    assert "Nothing needs you today" not in page
    # One tap: the session line leads straight to its check-in form.
    assert f"/family/{world.case1.id}/sessions/{session.id}/feedback" in page


def _checkins_tab(page: str) -> int:
    found = re.search(r'/checkins">Check-ins <span class="count">(\d+)</span>', page)
    return int(found.group(1)) if found else 0


def test_the_check_ins_tab_counts_the_check_ins_waiting_there(
    app: Flask, db_session: Session, browser: Browser, world: World
) -> None:
    with services_for(app, db_session):
        _joined_a_month_ago(db_session, world)
        session = _held(world)
    browser.login("g1@family.test")
    family = f"/family/{world.case1.id}"
    assert _checkins_tab(browser.get(family).get_data(as_text=True)) == 2  # session and weekly
    with services_for(app, db_session):
        _answer_session(world, session)
    assert _checkins_tab(browser.get(family).get_data(as_text=True)) == 1  # the weekly one
    with services_for(app, db_session):
        _send_weekly(world)
    page = browser.get(family).get_data(as_text=True)
    assert _checkins_tab(page) == 0 and '/checkins">Check-ins</a>' in page


def test_when_nothing_waits_the_page_says_so_with_the_next_session(
    app: Flask, db_session: Session, browser: Browser, world: World
) -> None:
    with services_for(app, db_session):
        _send_weekly(world)
        feedback.do_record_session(
            world.t1,
            world.case1,
            starts_at=utcnow() + timedelta(days=3),
            mode=SessionMode.VIDEO,
            status=SessionStatus.SCHEDULED,
            attendees="",
        )
    browser.login("g1@family.test")
    page = browser.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert "Nothing needs you today." in page and "Next session:" in page
    assert _badge(page) == 0


def test_the_plan_page_says_waiting_for_your_answer_only_until_you_answer(
    app: Flask, db_session: Session, browser: Browser, world: World
) -> None:
    with services_for(app, db_session):
        plan = proposed_plan(world.t1, world.case1)
    browser.login("g1@family.test")
    before = browser.get(f"/family/{world.case1.id}/plan").get_data(as_text=True)
    assert "A new version is waiting for your answer" in before
    with services_for(app, db_session):
        plans.do_guardian_response(
            world.g1, plan, world.case1, kind=ResponseKind.ACCEPT, comment=""
        )
    after = browser.get(f"/family/{world.case1.id}/plan").get_data(as_text=True)
    assert "A new version is waiting for your answer" not in after
    assert f"Version {plan.number} is proposed" in after and "accepted" in after


# --- every status is a recorded fact -----------------------------------------------------------


def test_feedback_is_not_read_until_a_therapist_opens_it(
    app: Flask, db_session: Session, browser: Browser, new_browser, world: World
) -> None:
    with services_for(app, db_session):
        _answer_session(world, _held(world))
    browser.login("g1@family.test")
    checkins = f"/family/{world.case1.id}/checkins"
    sent = browser.get(checkins).get_data(as_text=True)
    assert "Sent; not read yet." in sent and "Read by" not in sent
    therapist = new_browser()
    therapist.login("t1@clinic.test")
    assert therapist.get(f"/cases/{world.case1.id}/feedback").status_code == 200
    read = browser.get(checkins).get_data(as_text=True)
    assert f"Read by {world.t1.display_name}" in read and "Sent; not read yet." not in read
    assert "answered:" not in read  # read is not answered


def test_a_therapist_of_another_case_reading_their_page_marks_nothing_read(
    app: Flask, db_session: Session, new_browser, world: World
) -> None:
    with services_for(app, db_session):
        _answer_session(world, _held(world))
    other = new_browser()
    other.login("t2@clinic.test")
    assert other.get(f"/cases/{world.case1.id}/feedback").status_code == 404
    db_session.expire_all()
    read = db_session.scalars(select(SessionFeedback.read_at)).all()
    assert read == [None]


# --- "How is it going?" -------------------------------------------------------------------------


def test_a_note_is_sent_read_answered_and_resolved(
    app: Flask, db_session: Session, browser: Browser, new_browser, world: World
) -> None:
    browser.login("g1@family.test")
    url = f"/family/{world.case1.id}/how-is-it-going"
    page = browser.get(url).get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)
    assert key
    # Nothing typed is lost: a missing choice answers 422 with the text still in the box.
    refused = browser.post(url, {"idempotency_key": key.group(1), "text": "Bedtimes are hard"})
    assert refused.status_code == 422 and "Bedtimes are hard" in refused.get_data(as_text=True)
    sent = browser.post(
        url, {"idempotency_key": key.group(1), "mood": "mixed", "text": "Bedtimes are hard"}
    )
    assert sent.status_code == 303
    mine = browser.get(url).get_data(as_text=True)
    assert "Bedtimes are hard" in mine and "Sent; not read yet." in mine and "Read by" not in mine
    other = new_browser()
    other.login("g2@family.test")
    assert other.get(url).status_code == 404
    therapist = new_browser()
    therapist.login("t1@clinic.test")
    caseload = therapist.get("/caseload").get_data(as_text=True)
    assert "1 “How is it going?” note" in caseload
    case_page = therapist.get(f"/cases/{world.case1.id}/feedback").get_data(as_text=True)
    assert "Bedtimes are hard" in case_page
    note = db_session.scalars(select(FamilyNote)).one()
    assert note.mood is NoteMood.MIXED and note.read_by_id == world.t1.id
    answered = therapist.post(
        f"/cases/{world.case1.id}/notes/{note.id}/answer", {"answer": "Let us plan bedtime."}
    )
    assert answered.status_code == 303
    assert "Let us plan bedtime." in browser.get(url).get_data(as_text=True)
    resolved = therapist.post(f"/cases/{world.case1.id}/notes/{note.id}/resolve", {})
    assert resolved.status_code == 303
    db_session.expire_all()
    assert db_session.scalars(select(FamilyNote.resolved_at)).one() is not None


def test_an_answered_step_idea_waits_until_the_guardian_opens_the_practice_page(
    app: Flask, db_session: Session, browser: Browser, world: World
) -> None:
    from portal.ladders import services as ladders
    from tests.support.builders import a_ladder

    with services_for(app, db_session):
        ladder, _steps = a_ladder(world.t1, world.case1)
        idea = ladders.do_suggest_step(
            world.g1, world.case1, ladder, title="Stroke a calm dog", on_behalf_of_child=False
        )
        assert "step_idea" not in _kinds(world.g1)  # not answered yet: nothing to see
        ladders.do_decide_suggestion(world.t1, idea, approve=False, fear_score=None)
        assert "step_idea" in _kinds(world.g1)
    browser.login("g1@family.test")
    progress = browser.get(f"/cases/{world.case1.id}/progress").get_data(as_text=True)
    assert "Stroke a calm dog" in progress and "not added this time" in progress
    page = browser.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert "need-step_idea" not in page


def test_unread_messages_wait_until_read(app: Flask, db_session: Session, world: World) -> None:
    from portal.messages import services as messaging
    from portal.models import ThreadKind

    with services_for(app, db_session):
        thread = messaging.do_open_thread(world.t1, world.case1, ThreadKind.FAMILY)
        messaging.do_send_message(
            world.t1, thread, world.case1, body="Hello", idempotency_key=str(uuid.uuid4())
        )
        unread = [n for n in needs_of(world.g1) if n.kind == "messages"]
        assert [n.number for n in unread] == [1]
        messaging.do_mark_read(world.g1, thread, thread.seq)
        assert "messages" not in _kinds(world.g1)
        # The writer's own message never waits for them.
        assert "messages" not in _kinds(world.t1)


def test_a_consent_waits_only_when_its_wording_changed(
    app: Flask, db_session: Session, world: World, monkeypatch: Any
) -> None:
    from portal.consent_documents import CONSENT_DOCUMENTS, ConsentDocument
    from portal.models import ConsentKind

    with services_for(app, db_session):
        assert "consent" not in _kinds(world.g1)
        old = CONSENT_DOCUMENTS[ConsentKind.PORTAL_TERMS]
        monkeypatch.setitem(
            CONSENT_DOCUMENTS,
            ConsentKind.PORTAL_TERMS,
            ConsentDocument(old.kind, "terms-2027-01", old.title, old.summary),
        )
        g.pop("guardian_needs", None)
        waiting = [n for n in needs_of(world.g1) if n.kind == "consent"]
        assert [n.text for n in waiting] == ["portal_terms"]
