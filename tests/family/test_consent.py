"""Issue 13, DESIGN §9: withdrawing consent explains itself, asks to confirm, then does what it
says; the therapist is told; giving it again restores what it allows."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import AuthSession, CaseStatus, ConsentRecord
from portal.models.tasks import CaseTask, TaskKind
from tests.support.browser import Browser
from tests.support.rows import PIN, World


def _withdraw(browser: Browser, world: World, kind: str) -> None:
    url = f"/family/{world.case1.id}/consent"
    assert (
        browser.post(url, {"kind": kind, "action": "revoked", "confirm": "yes"}).status_code == 303
    )


def _records(db_session: Session) -> int:
    return int(db_session.scalar(select(func.count()).select_from(ConsentRecord)) or 0)


def test_withdrawing_treatment_first_explains_and_changes_nothing_until_confirmed(
    browser: Browser, world: World, db_session: Session
) -> None:
    browser.login("g1@family.test")
    before = _records(db_session)
    page = browser.post(
        f"/family/{world.case1.id}/consent", {"kind": "treatment", "action": "revoked"}
    )
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Therapy is paused" in text and "Yes, withdraw" in text
    assert _records(db_session) == before
    db_session.expire_all()
    assert db_session.get(type(world.case1), world.case1.id).status is CaseStatus.ACTIVE


def test_withdrawn_treatment_pauses_the_case_tells_the_therapist_and_blocks_proposals(
    browser: Browser, new_browser, world: World, db_session: Session
) -> None:
    browser.login("g1@family.test")
    _withdraw(browser, world, "treatment")
    db_session.expire_all()
    case = db_session.get(type(world.case1), world.case1.id)
    assert case.status is CaseStatus.PAUSED
    task = db_session.scalars(select(CaseTask).where(CaseTask.case_id == case.id)).one()
    assert task.kind is TaskKind.CONSENT_WITHDRAWN and task.resolved_at is None
    therapist = new_browser()
    therapist.login("t1@clinic.test")
    caseload = therapist.get("/caseload").get_data(as_text=True)
    # The caseload's work queue (issue 14, merged from 'clinic') names it in its own words.
    assert "Consent withdrawn" in caseload
    assert "Treatment consent was withdrawn: the case is paused." in caseload
    # Given again: the case resumes.
    again = browser.post(
        f"/family/{world.case1.id}/consent", {"kind": "treatment", "action": "granted"}
    )
    assert again.status_code == 303
    db_session.expire_all()
    assert db_session.get(type(world.case1), world.case1.id).status is CaseStatus.ACTIVE


def test_a_paused_case_cannot_propose_a_plan_version(
    app, db_session: Session, world: World
) -> None:
    import pytest
    from flask import g

    from portal.plans.services import PlanRuleError
    from tests.support.builders import proposed_plan

    world.case1.status = CaseStatus.PAUSED
    db_session.commit()
    with app.test_request_context():
        g.db_session = db_session
        with pytest.raises(PlanRuleError, match="paused"):
            proposed_plan(world.t1, world.case1)
        g.pop("db_session")


def test_withdrawn_permission_for_the_child_ends_the_childs_sign_in(
    browser: Browser, new_browser, world: World, db_session: Session
) -> None:
    child = new_browser()
    child.login("cody1", PIN)
    assert child.get("/me").status_code == 200
    browser.login("g1@family.test")
    _withdraw(browser, world, "parental_consent_under_13")
    open_sessions = db_session.scalar(
        select(func.count())
        .select_from(AuthSession)
        .where(AuthSession.user_id == world.c1.id, AuthSession.ended_at.is_(None))
    )
    assert open_sessions == 0
    assert child.get("/me").status_code in (302, 303, 401, 404)


def test_withdrawn_messaging_acknowledgement_leaves_the_threads(
    browser: Browser, world: World, db_session: Session
) -> None:
    from portal.messages.queries import visible_thread_ids
    from portal.models import MessageThread, ThreadKind

    db_session.add(
        MessageThread(case_id=world.case1.id, kind=ThreadKind.FAMILY, created_by_id=world.t1.id)
    )
    db_session.commit()
    browser.login("g1@family.test")
    assert db_session.scalars(visible_thread_ids(world.g1)).all() != []
    _withdraw(browser, world, "messaging_policy")
    assert db_session.scalars(visible_thread_ids(world.g1)).all() == []
    page = browser.get(f"/cases/{world.case1.id}/messages").get_data(as_text=True)
    assert "You are not in the message threads" in page and "agree to rejoin" in page
    # Agreeing again restores the threads.
    again = {"kind": "messaging_policy", "action": "granted"}
    assert browser.post(f"/family/{world.case1.id}/consent", again).status_code == 303
    assert db_session.scalars(visible_thread_ids(world.g1)).all() != []
    page = browser.get(f"/cases/{world.case1.id}/messages").get_data(as_text=True)
    assert "You are not in the message threads" not in page


def test_withdrawn_terms_sign_out_and_the_next_sign_in_asks_to_agree(
    browser: Browser, world: World, db_session: Session
) -> None:
    browser.login("g1@family.test")
    _withdraw(browser, world, "portal_terms")
    assert browser.get(f"/family/{world.case1.id}").status_code in (302, 303)  # signed out
    response = browser.login("g1@family.test")
    assert "/family/terms" in response.headers.get("Location", "")
    blocked = browser.get(f"/family/{world.case1.id}")
    assert blocked.status_code == 302 and "/family/terms" in blocked.headers["Location"]
    assert browser.post("/family/terms", {}).status_code == 303
    assert browser.get(f"/family/{world.case1.id}").status_code == 200


def test_the_consents_to_choose_from_are_radio_buttons_and_one_must_be_chosen(
    browser: Browser, world: World, db_session: Session
) -> None:
    """Each document's whole name is on the screen (a list box cut "Consentimiento para el
    tratamiento" off on a phone); sending without choosing one records nothing."""
    import re

    browser.login("g1@family.test")
    page = browser.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert '<select id="kind"' not in page
    kinds = re.findall(r'<input id="kind-\d+" name="kind"[^>]*type="radio" value="(\w+)"', page)
    assert {"treatment", "portal_terms", "messaging_policy"} <= set(kinds)
    assert "<span>Consent to treatment</span>" in page
    before = _records(db_session)
    refused = browser.post(f"/family/{world.case1.id}/consent", {"action": "granted"})
    assert refused.status_code == 422
    assert "Choose which consent." in refused.get_data(as_text=True)
    assert _records(db_session) == before
