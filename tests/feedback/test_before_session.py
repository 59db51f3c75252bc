"""Before the session (issue 14): one page of what happened since the last session, every number
linked to its evidence, and an agenda only the case's therapists ever see."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from portal.db import bound, utcnow
from portal.feedback import services
from portal.feedback.before_session import PredictionError, do_judge_prediction, prepare
from portal.ladders import services as ladder_services
from portal.models.feedback import SessionMode, SessionStatus
from portal.models.ladders import Completion, FearScale, LadderStep, PracticeAttempt
from tests.support.browser import Browser
from tests.support.builders import a_ladder
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


# --- Predictions that did not come true -----------------------------------------------------------


def _entry(
    world: World, step: LadderStep, days_ago: float, prediction: str, outcome: str
) -> PracticeAttempt:
    data = ladder_services.PracticeInput(
        ratings=ladder_services.Ratings(FearScale.THERMOMETER_10, peak=4),
        completion=Completion.FULL,
        idempotency_key=str(uuid.uuid4()),
        prediction=prediction,
        outcome=outcome,
        practiced_at=utcnow() - timedelta(days=days_ago),
    )
    return ladder_services.do_log_practice(
        world.c1, world.case1, step, data, on_behalf_of_child=False, private_notes_allowed=False
    ).attempt


def _predictions(app: Flask, db: Session, world: World) -> dict[str, PracticeAttempt]:
    """After the last session (3 days ago): one feared outcome that did not happen, one that
    did, one not read yet, one entry with no prediction; and one disproved before the session."""
    _history(app, db, world)
    with app.test_request_context(), bound(db):
        _, steps = a_ladder(world.t1, world.case1, (2, 4))
        made = {
            "before": _entry(world, steps[0], 5, "They will laugh at me", "Nobody laughed"),
            "disproved": _entry(world, steps[0], 2, "The dog will jump at me", "It walked on"),
            "came_true": _entry(world, steps[0], 1.5, "Maybe it barks", "It barked once"),
            "unread": _entry(world, steps[0], 1, "I will have to stop", "I did it all"),
            "no_prediction": _entry(world, steps[0], 0.5, "", "Easy"),
        }
        do_judge_prediction(world.t1, made["before"], False)
        do_judge_prediction(world.t1, made["disproved"], False)
        do_judge_prediction(world.t1, made["came_true"], True)
        db.commit()
    return made


def test_prepare_singles_out_the_predictions_that_did_not_come_true_since_the_last_session(
    app: Flask, world: World, db_session: Session
) -> None:
    made = _predictions(app, db_session, world)
    with app.test_request_context(), bound(db_session):
        prep = prepare(world.case1, utcnow())
        assert [a.id for a in prep.disproved] == [made["disproved"].id]
        # A prediction that came true, one not read yet and one before the session are not listed.
        assert made["came_true"].id not in {a.id for a in prep.disproved}
        assert [a.id for a in prep.came_true] == [made["came_true"].id]
        assert [a.id for a in prep.to_read] == [made["unread"].id]
        # An entry without a prediction has nothing to judge.
        with pytest.raises(PredictionError):
            do_judge_prediction(world.t1, made["no_prediction"], False)


def _disproved_section(page: str) -> str:
    start = page.index("Predictions that did not come true")
    return page[start : page.index("</ul>", start)]


def test_the_therapist_marks_a_prediction_and_the_page_links_each_to_its_practice_entry(
    app: Flask, browser: Browser, new_browser, world: World, db_session: Session
) -> None:
    made = _predictions(app, db_session, world)
    case_id = world.case1.id
    browser.login("t1@clinic.test")
    url = f"/cases/{case_id}/before-session"
    section = _disproved_section(browser.get(url).get_data(as_text=True))
    evidence = f'href="/cases/{case_id}/progress#practice-{made["disproved"].id}"'
    assert evidence in section and "The dog will jump at me" in section
    assert "Maybe it barks" not in section  # it came true
    assert "They will laugh at me" not in section  # before the last session
    assert "I will have to stop" not in section  # not read yet: offered with its two buttons

    judged = browser.post(f"{url}/predictions/{made['unread'].id}", {"came_true": "no"})
    assert judged.status_code == 303
    assert judged.headers["Location"].endswith(f"{url}#prep-predictions")
    db_session.refresh(made["unread"])
    assert made["unread"].prediction_came_true is False
    section = _disproved_section(browser.get(url).get_data(as_text=True))
    assert f"#practice-{made['unread'].id}" in section and "I will have to stop" in section

    # Taken back: it is no longer listed.
    browser.post(f"{url}/predictions/{made['unread'].id}", {"came_true": "clear"})
    section = _disproved_section(browser.get(url).get_data(as_text=True))
    assert "I will have to stop" not in section
    # Nonsense and an entry with nothing to judge are refused; nothing changes.
    assert (
        browser.post(f"{url}/predictions/{made['unread'].id}", {"came_true": "maybe"}).status_code
        == 400
    )
    refused = browser.post(f"{url}/predictions/{made['no_prediction'].id}", {"came_true": "no"})
    assert refused.status_code == 400
    db_session.refresh(made["no_prediction"])
    assert made["no_prediction"].prediction_came_true is None

    # Another therapist and the family cannot mark it, nor reach an entry through another case.
    for email in ("t2@clinic.test", "g1@family.test"):
        other = new_browser()
        other.login(email)
        answer = other.post(f"{url}/predictions/{made['came_true'].id}", {"came_true": "no"})
        assert answer.status_code == 404
    wrong_case = browser.post(
        f"/cases/{world.case2.id}/before-session/predictions/{made['came_true'].id}",
        {"came_true": "no"},
    )
    assert wrong_case.status_code == 404
    db_session.refresh(made["came_true"])
    assert made["came_true"].prediction_came_true is True


def test_a_guardian_who_came_and_has_not_checked_in_is_named(
    app: Flask, browser: Browser, world: World, db_session: Session
) -> None:
    _history(app, db_session, world)
    came = {services.guardian_key(world.g1.id): SessionMode.IN_PERSON}
    browser.login("t1@clinic.test")
    url = f"/cases/{world.case1.id}/before-session"
    assert "came, no check-in yet" not in browser.get(url).get_data(as_text=True)  # she answered
    with app.test_request_context(), bound(db_session):
        services.do_record_session(
            world.t1,
            world.case1,
            starts_at=utcnow() - timedelta(hours=5),
            mode=SessionMode.IN_PERSON,
            status=SessionStatus.HELD,
            attendance=came,
        )
        db_session.commit()
    page = browser.get(url).get_data(as_text=True)
    assert (
        f'<strong>{world.g1.display_name}</strong>: <span class="muted">came, no check-in yet'
        in page
    )
    assert "No guardian check-in for the last session yet." not in page
