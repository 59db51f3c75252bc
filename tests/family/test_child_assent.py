"""Issue 13, DESIGN §2: the child's own agreement to take part is a consent record, given in the
child's way at the start of care and shown to the family."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import ConsentAction, ConsentKind, ConsentRecord
from portal.models.tasks import CaseTask, TaskKind
from tests.support.browser import Browser
from tests.support.rows import PIN, World


def test_the_child_is_asked_once_and_the_family_sees_the_answer(
    browser: Browser, new_browser, world: World, db_session: Session
) -> None:
    child = new_browser()
    child.login("cody1", PIN)
    home = child.get("/me").get_data(as_text=True)
    assert "Will you work on this with us?" in home
    screen = child.get("/me/agree").get_data(as_text=True)
    assert "not sure, but I" in screen and "Not yet" in screen  # the 8–12 short choice
    assert child.post("/me/agree", {"choice": "yes"}).status_code == 303
    record = db_session.scalars(
        select(ConsentRecord).where(ConsentRecord.kind == ConsentKind.CHILD_ASSENT)
    ).one()
    assert (record.given_by_id, record.action) == (world.c1.id, ConsentAction.GRANTED)
    assert "Will you work on this with us?" not in child.get("/me").get_data(as_text=True)
    browser.login("g1@family.test")
    family = browser.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert "s own agreement" in family and "said yes" in family


def test_not_yet_is_recorded_as_not_given_and_the_therapist_gets_a_task(
    new_browser, world: World, db_session: Session
) -> None:
    child = new_browser()
    child.login("cody1", PIN)
    refused = child.post("/me/agree", {})
    assert refused.status_code == 422
    assert child.post("/me/agree", {"choice": "not_yet"}).status_code == 303
    record = db_session.scalars(
        select(ConsentRecord).where(ConsentRecord.kind == ConsentKind.CHILD_ASSENT)
    ).one()
    assert record.action is ConsentAction.REVOKED
    task = db_session.scalars(select(CaseTask).where(CaseTask.case_id == world.case1.id)).one()
    assert task.kind is TaskKind.CHILD_NOT_READY


def test_a_family_page_with_no_answer_says_not_asked_yet(browser: Browser, world: World) -> None:
    browser.login("g1@family.test")
    family = browser.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert "not asked yet" in family and "said yes" not in family
