"""The plan over HTTP: who sees what, htmx fragments, conflicts and the acceptance journey."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import db
from portal.models import PlanStatus, PlanVersion
from portal.models.plans import Informant, ProblemDomain
from portal.plans import services
from tests.support.browser import Browser
from tests.support.builders import a_goal, proposed_plan
from tests.support.rows import PIN, World


@pytest.fixture()
def proposal(app, db_session: Session, world: World) -> PlanVersion:  # type: ignore[no-untyped-def]
    with app.test_request_context(), db.bound(db_session):
        plan = proposed_plan(world.t1, world.case1)
        plan.goals[0].clinical_text = "SENTINEL_CLINICAL_TEXT_c0ff"
        db_session.commit()
    return plan


def _draft(app, db_session: Session, world: World) -> PlanVersion:  # type: ignore[no-untyped-def]
    with app.test_request_context(), db.bound(db_session):
        draft = services.do_start_draft(world.t1, world.case1)
        services.do_add_goal(world.t1, draft, world.case1, a_goal("Draft goal SENTINEL_DRAFT_77"))
        db_session.commit()
    return draft


def test_the_acceptance_journey_makes_the_version_active(
    browser: Browser, new_browser, world: World, db_session: Session, proposal: PlanVersion
) -> None:
    browser.login("g1@family.test")
    page = browser.get(f"/family/{world.case1.id}/plan").get_data(as_text=True)
    assert "A new version is waiting for your answer" in page
    assert "Our first plan together." in page
    browser.get(f"/plans/{proposal.id}")
    answer = browser.post(f"/plans/{proposal.id}/respond", {"kind": "accept", "comment": ""})
    assert answer.status_code == 303
    child = new_browser()
    child.login("cody1", PIN)
    assert "Say goodbye at school with a smile" in child.get("/me/plan").get_data(as_text=True)
    assert child.post(f"/plans/{proposal.id}/assent", {"choice": "yes"}).status_code == 303
    db_session.expire_all()
    assert db_session.get(PlanVersion, proposal.id).status is PlanStatus.ACTIVE  # type: ignore[union-attr]


def test_a_guardian_must_explain_a_request_for_changes_and_keeps_the_choice(
    browser: Browser, world: World, proposal: PlanVersion
) -> None:
    browser.login("g1@family.test")
    browser.get(f"/plans/{proposal.id}")
    response = browser.post(
        f"/plans/{proposal.id}/respond", {"kind": "request_changes", "comment": ""}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please write a few words" in page
    assert re.search(r'<input checked[^>]*value="request_changes"', page)


def test_an_answered_version_opens_with_the_answer_given(
    browser: Browser, new_browser, world: World, db_session: Session, proposal: PlanVersion
) -> None:
    """Issue 13, answered stays answered: reopening the version shows this guardian's answer and
    comment in the form (before, a blank form under "You answered ... You can answer again")."""
    browser.login("g1@family.test")
    blank = browser.get(f"/plans/{proposal.id}").get_data(as_text=True)
    assert "<input checked" not in blank and "You answered" not in blank
    said = "Yes, and Saturdays suit us better than Sundays."
    answer = browser.post(
        f"/plans/{proposal.id}/respond", {"kind": "accept_with_comment", "comment": said}
    )
    assert answer.status_code == 303
    page = browser.get(f"/plans/{proposal.id}").get_data(as_text=True)
    assert "You answered on" in page
    assert re.search(r'<input checked[^>]*value="accept_with_comment"', page)
    assert re.search(r'<textarea[^>]*name="comment"[^>]*>\s*' + re.escape(said), page)
    # Only their own answer: another guardian of the case still opens a blank form.
    from portal.models import Role
    from tests.support.rows import link_guardian, make_user

    dad = make_user(db_session, Role.GUARDIAN, "Dan One", email="dan1@family.test")
    link_guardian(db_session, world.case1, dad, household="Dad's flat", relationship="Father")
    db_session.commit()
    other = new_browser()
    other.login("dan1@family.test")
    theirs = other.get(f"/plans/{proposal.id}").get_data(as_text=True)
    assert "<input checked" not in theirs and said not in theirs and "You answered" not in theirs


def test_the_child_sees_only_child_friendly_text(
    new_browser, world: World, proposal: PlanVersion
) -> None:
    child = new_browser()
    child.login("cody1", PIN)
    page = child.get("/me/plan").get_data(as_text=True)
    assert "Say goodbye at school with a smile" in page
    assert "SENTINEL_CLINICAL_TEXT_c0ff" not in page and "Clinical:" not in page
    assert child.get(f"/plans/{proposal.id}/changes").status_code == 404
    assert child.get(f"/plans/{proposal.id}/print").status_code == 404


def test_families_never_see_a_draft(
    app, browser: Browser, new_browser, world: World, db_session: Session
) -> None:
    draft = _draft(app, db_session, world)
    browser.login("g1@family.test")
    assert browser.get(f"/plans/{draft.id}").status_code == 404
    assert "SENTINEL_DRAFT_77" not in browser.get(f"/family/{world.case1.id}/plan").get_data(
        as_text=True
    )
    child = new_browser()
    child.login("cody1", PIN)
    assert "SENTINEL_DRAFT_77" not in child.get("/me/plan").get_data(as_text=True)


def test_the_other_family_and_the_other_therapist_get_404(
    new_browser, world: World, proposal: PlanVersion
) -> None:
    for sign_in, secret in (("g2@family.test", ""), ("t2@clinic.test", ""), ("cara2", PIN)):
        person = new_browser()
        person.login(sign_in, secret)
        for url in (
            f"/plans/{proposal.id}",
            f"/plans/{proposal.id}/changes",
            f"/plans/{proposal.id}/print",
            f"/family/{world.case1.id}/plan",
            f"/cases/{world.case1.id}/plan",
            f"/cases/{world.case1.id}/problems",
        ):
            response = person.get(url)
            assert response.status_code == 404, (sign_in, url)
            assert "SENTINEL_CLINICAL_TEXT_c0ff" not in response.get_data(as_text=True)
        assert person.post(f"/plans/{proposal.id}/respond", {"kind": "accept"}).status_code == 404


def test_a_guardian_cannot_edit_the_plan(
    app, browser: Browser, world: World, db_session: Session
) -> None:
    draft = _draft(app, db_session, world)
    browser.login("g1@family.test")
    assert browser.get(f"/plans/{draft.id}/edit").status_code == 404
    response = browser.post(
        f"/plans/{draft.id}/goals",
        {"child_text": "Guardian goal", "clinical_text": "x", "owner": "shared"},
    )
    assert response.status_code == 404
    db_session.expire_all()
    assert len(db_session.get(PlanVersion, draft.id).goals) == 1  # type: ignore[union-attr]


def test_RL03_two_therapists_editing_one_goal_the_second_gets_a_clear_conflict(
    app, browser: Browser, new_browser, world: World, db_session: Session
) -> None:
    draft = _draft(app, db_session, world)
    goal = draft.goals[0]
    first, second = browser, new_browser()
    first.login("t1@clinic.test")
    second.login("t1@clinic.test")
    first.get(f"/plans/{draft.id}/edit")
    second.get(f"/plans/{draft.id}/edit")
    form = {
        "edit_version": str(goal.edit_version),
        "clinical_text": "Clinical words",
        "owner": "shared",
        "benchmarks-0-measure": "Mornings",
        "benchmarks-0-target": "4 of 5",
        "benchmarks-0-due_on": "2027-03-01",
    }
    saved = first.post(f"/plans/{draft.id}/goals/{goal.id}", {**form, "child_text": "First words"})
    assert saved.status_code == 303
    stale = second.post(
        f"/plans/{draft.id}/goals/{goal.id}", {**form, "child_text": "Second words"}
    )
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "Someone saved this plan since you opened it" in page
    assert 'value="Second words"' in page  # nothing they typed is lost
    db_session.expire_all()
    assert db_session.get(type(goal), goal.id).child_text == "First words"  # type: ignore[union-attr]


def test_reordering_problems_swaps_the_list_in_place_with_htmx(
    app, browser: Browser, world: World, db_session: Session
) -> None:
    with app.test_request_context(), db.bound(db_session):
        for words in ("First worry", "Second worry"):
            services.do_add_problem(
                world.t1,
                world.case1,
                child_words=words,
                clinical_words="c",
                domain=ProblemDomain.OTHER,
                reported_by="Mother",
                severities={Informant.GUARDIAN: 5},
            )
        db_session.commit()
    browser.login("t1@clinic.test")
    browser.get(f"/cases/{world.case1.id}/problems")
    from portal.models import Problem

    problem = db_session.scalars(select(Problem).where(Problem.child_words == "Second worry")).one()
    response = browser.htmx(
        "POST", f"/cases/{world.case1.id}/problems/{problem.id}/move", {"direction": "up"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and 'id="problem-list"' in body
    assert body.index("Second worry") < body.index("First worry")
    assert "Moved “Second worry” up." in body
    assert response.headers["Vary"].count("HX-Request") >= 1
    # A therapist who reads Spanish hears it in Spanish (it was English for everybody).
    world.t1.language = "es"
    db_session.commit()
    response = browser.htmx(
        "POST", f"/cases/{world.case1.id}/problems/{problem.id}/move", {"direction": "down"}
    )
    body = response.get_data(as_text=True)
    assert "“Second worry” bajó un lugar." in body and "Moved" not in body


def test_caseload_shows_family_requests_and_overdue_reviews(
    app, browser: Browser, new_browser, world: World, db_session: Session, proposal: PlanVersion
) -> None:
    guardian = new_browser()
    guardian.login("g1@family.test")
    guardian.get(f"/plans/{proposal.id}")
    guardian.post(
        f"/plans/{proposal.id}/respond", {"kind": "request_changes", "comment": "Bedtime?"}
    )
    browser.login("t1@clinic.test")
    page = browser.get("/caseload").get_data(as_text=True)
    assert "1 family request" in page and "Plan waiting for family" in page
    plan = db_session.get(PlanVersion, proposal.id)
    assert plan is not None
    plan.status = PlanStatus.ACTIVE
    plan.review_due_on = (plan.created_at - timedelta(days=1)).date()
    db_session.commit()
    assert "Review overdue" in browser.get("/caseload").get_data(as_text=True)
