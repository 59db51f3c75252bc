"""The caseload is read as plain rows (issue 17): what a therapist sees on it is unchanged — each
child with age and concern, every current guardian with their household, an ended guardian link
left out, and the therapist's own role on the case."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy.orm import Session

from portal.cases.worklist import ShownRow
from portal.db import utcnow
from portal.models import CaseTherapist, Role
from tests.support.browser import Browser
from tests.support.rows import World, link_guardian, make_user
from tests.support.templates import unpacked_names


def test_caseload_lists_current_guardians_and_the_therapists_role(
    browser: Browser, db_session: Session, world: World
) -> None:
    second = make_user(db_session, Role.GUARDIAN, "Gail Second", email="gs@family.test")
    ended = make_user(db_session, Role.GUARDIAN, "Eddie Ended", email="ee@family.test")
    link_guardian(db_session, world.case1, second, household="Dad's house")
    old = link_guardian(db_session, world.case1, ended, household="Old house")
    old.valid_to = utcnow() - timedelta(days=1)
    db_session.add(
        CaseTherapist(
            case_id=world.case2.id,
            therapist_id=world.t1.id,
            is_primary=False,
            added_by_id=world.t2.id,
        )
    )
    db_session.commit()
    browser.login("t1@clinic.test")
    page = browser.get("/caseload").get_data(as_text=True)
    cody = page[page.index("Cody SENTINEL_F1_LASTNAME_7f3a") : page.index("Cara SENTINEL_F2")]
    assert "Gwen One" in cody and "SENTINEL_F1_HOUSEHOLD_aa01" in cody
    assert "Gail Second" in cody and "Dad&#39;s house" in cody
    assert "Eddie Ended" not in page  # an ended link is not on the caseload
    assert ">10<" in cody  # age
    assert "Primary" in cody and "Co-therapist" not in cody
    cara = page[page.index("Cara SENTINEL_F2") :]
    assert "Co-therapist" in cara[: cara.index("</li>")]  # one row of the work queue (issue 14)


def test_a_child_whose_name_was_removed_is_listed_by_the_placeholder_in_the_readers_language(
    browser: Browser, db_session: Session, world: World
) -> None:
    child = world.case1.child
    child.remove_name(utcnow())
    world.t1.language = "es"
    db_session.commit()
    browser.login("t1@clinic.test")
    page = browser.get("/caseload").get_data(as_text=True)
    assert f">Niño/a #{child.id}</a>" in page
    assert "Cody" not in page and "Child #" not in page
    world.t1.language = "en"
    db_session.commit()
    page = browser.get("/caseload").get_data(as_text=True)
    assert f">Child #{child.id}</a>" in page
    assert "Cara SENTINEL_F2" not in page  # only t1's own cases


def test_the_caseload_template_unpacks_each_row_into_its_fields_in_their_order(app: Flask) -> None:
    # The rows are unpacked by position (issue 17): a field added, removed or moved in ShownRow
    # and not in the template would put one value where another belongs.
    assert unpacked_names(app, "cases/caseload.html", "rows") == list(ShownRow._fields)
