"""The care team, end to end over HTTP: opening a case, inviting guardians, consent, the child's
sign-in, separated parents, a guardian with two children, and ending access."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.models import (
    Case,
    ConsentAction,
    ConsentKind,
    ConsentRecord,
    GuardianLink,
    Invitation,
    OutboxEmail,
    Role,
    User,
)
from tests.support.browser import Browser
from tests.support.rows import PASSWORD, World, link_guardian, make_case, make_user

NEW_PASSWORD = "a walk by the river 2026"


def _invite(browser: Browser, case_id: int, email: str, **extra: str) -> str:
    data = {
        "email": email,
        "relationship_label": "Father",
        "household": "Dad's house",
        "has_legal_authority": "y",
        "can_consent": "y",
    }
    data.update(extra)
    response = browser.post(f"/cases/{case_id}/invitations", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def _link_from_outbox(db_session: Session, email: str) -> str:
    mail = db_session.scalars(
        select(OutboxEmail).where(OutboxEmail.to_address == email).order_by(OutboxEmail.id.desc())
    ).first()
    assert mail is not None
    match = re.search(r"http://portal\.test(/invite/\S+)", mail.body)
    assert match
    return match.group(1)


def _accept_as_new_guardian(browser: Browser, path: str, **overrides: str) -> object:
    browser.get(path)
    data = {
        "display_name": "Dan Example",
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
        "treatment": "y",
        "portal_terms": "y",
        "messaging_policy": "y",
        "parental_consent_under_13": "y",
    }
    data.update(overrides)
    return browser.post(path, data)


def test_therapist_opens_a_case_and_is_its_primary_therapist(
    browser: Browser, world: World, db_session: Session
) -> None:
    browser.login("t1@clinic.test")
    browser.get("/cases/new")
    response = browser.post(
        "/cases/new",
        {
            "first_name": "Noor",
            "last_name": "Haddad",
            "date_of_birth": "2017-03-04",
            "concern": "School avoidance",
        },
    )
    assert response.status_code == 303
    case = db_session.scalars(select(Case).order_by(Case.id.desc())).first()
    assert case is not None and case.child.first_name == "Noor"
    assert [(link.therapist_id, link.is_primary) for link in case.therapist_links] == [
        (world.t1.id, True)
    ]
    assert "Noor Haddad" in browser.get("/caseload").get_data(as_text=True)


def test_open_case_errors_keep_what_was_typed(browser: Browser, world: World) -> None:
    browser.login("t1@clinic.test")
    browser.get("/cases/new")
    response = browser.post(
        "/cases/new",
        {"first_name": "Noor", "last_name": "Haddad", "date_of_birth": "2099-01-01"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The date of birth is in the future." in page
    assert 'value="Noor"' in page and 'value="Haddad"' in page


def test_invitation_link_is_single_use_hashed_and_creates_a_consenting_guardian(
    browser: Browser, new_browser: object, world: World, db_session: Session
) -> None:
    browser.login("t1@clinic.test")
    _invite(browser, world.case1.id, "dan@family.test")
    path = _link_from_outbox(db_session, "dan@family.test")
    token = path.rsplit("/", 1)[1]
    invitation = db_session.scalars(select(Invitation)).one()
    assert token not in invitation.token_hash  # only the hash is stored (AU-06)
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)

    guardian_browser = new_browser()  # type: ignore[operator]
    response = _accept_as_new_guardian(guardian_browser, path)
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response.headers["Location"] == f"/family/{world.case1.id}"  # type: ignore[attr-defined]
    dan = db_session.scalars(select(User).where(User.email == "dan@family.test")).one()
    assert dan.role is Role.GUARDIAN
    kinds = set(
        db_session.scalars(
            select(ConsentRecord.kind).where(ConsentRecord.given_by_id == dan.id)
        ).all()
    )
    assert kinds == {
        ConsentKind.TREATMENT,
        ConsentKind.PORTAL_TERMS,
        ConsentKind.MESSAGING_POLICY,
        ConsentKind.PARENTAL_CONSENT_UNDER_13,
    }
    records = db_session.scalars(select(ConsentRecord).where(ConsentRecord.given_by_id == dan.id))
    assert all(r.document_version and r.recorded_at for r in records)

    again = new_browser()  # type: ignore[operator]
    assert again.get(path).status_code == 404  # used once, never again


def test_an_expired_invitation_does_not_work(
    browser: Browser, new_browser: object, world: World, db_session: Session
) -> None:
    browser.login("t1@clinic.test")
    _invite(browser, world.case1.id, "late@family.test")
    path = _link_from_outbox(db_session, "late@family.test")
    with time_machine.travel(utcnow() + timedelta(days=7, minutes=1), tick=False):
        response = new_browser().get(path)  # type: ignore[operator]
    assert response.status_code == 404
    assert "This link does not work any more" in response.get_data(as_text=True)


def test_treatment_consent_is_required_and_typed_fields_survive_the_error(
    browser: Browser, new_browser: object, world: World, db_session: Session
) -> None:
    browser.login("t1@clinic.test")
    _invite(browser, world.case1.id, "dan@family.test")
    path = _link_from_outbox(db_session, "dan@family.test")
    guardian_browser = new_browser()  # type: ignore[operator]
    response = _accept_as_new_guardian(guardian_browser, path, treatment="")
    page = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "Treatment needs your consent" in page
    assert 'value="Dan Example"' in page
    assert (
        db_session.scalar(
            select(func.count()).select_from(User).where(User.email == "dan@family.test")
        )
        == 0
    )


def test_a_guardian_with_two_children_switches_between_them(
    browser: Browser, new_browser: object, world: World, db_session: Session
) -> None:
    second = make_case(db_session, world.clinic, world.t2, first="Pia", last="One", age=7)
    db_session.commit()
    t2 = new_browser()  # type: ignore[operator]
    t2.login("t2@clinic.test")
    _invite(t2, second.id, "g1@family.test", relationship_label="Mother", household="Home")
    path = _link_from_outbox(db_session, "g1@family.test")
    browser.get(path)
    response = browser.post(
        path,
        {
            "current_password": PASSWORD,
            "treatment": "y",
            "portal_terms": "y",
            "messaging_policy": "y",
            "parental_consent_under_13": "y",
        },
    )
    assert response.status_code == 302
    page = browser.get(f"/family/{second.id}").get_data(as_text=True)
    assert 'aria-label="Choose a child"' in page
    assert f'href="/family/{world.case1.id}"' in page and "Pia" in page


def test_separated_parents_are_two_households_on_one_case(
    browser: Browser, world: World, db_session: Session
) -> None:
    dad = make_user(db_session, Role.GUARDIAN, "Dev One", email="dev@family.test")
    link_guardian(db_session, world.case1, dad, household="Dad's house", relationship="Father")
    db_session.commit()
    browser.login("dev@family.test")
    page = browser.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert "Gwen One" in page and "Dev One" in page
    assert "(Dad&#39;s house)" in page


def test_guardian_creates_the_childs_pin_sign_in_after_consent(
    browser: Browser, new_browser: object, world: World, db_session: Session
) -> None:
    case = make_case(db_session, world.clinic, world.t1, first="Ivo", last="One", age=9)
    link_guardian(db_session, case, world.g1)
    db_session.commit()
    browser.login("g1@family.test")
    browser.get(f"/cases/{case.id}/child-account")
    bad = browser.post(
        f"/cases/{case.id}/child-account", {"username": "ivo", "secret": "12", "confirm": "12"}
    )
    assert bad.status_code == 422 and "A PIN is 4 to 6 numbers." in bad.get_data(as_text=True)
    assert 'value="ivo"' in bad.get_data(as_text=True)
    ok = browser.post(
        f"/cases/{case.id}/child-account", {"username": "ivo", "secret": "8642", "confirm": "8642"}
    )
    assert ok.status_code == 303
    child_browser = new_browser()  # type: ignore[operator]
    child_browser.login("ivo", "8642")
    assert "Hi Ivo!" in child_browser.get("/me").get_data(as_text=True)


def test_no_child_sign_in_before_consent(
    browser: Browser, world: World, db_session: Session
) -> None:
    case = make_case(db_session, world.clinic, world.t1, first="Zed", last="One", age=11)
    link_guardian(db_session, case, world.g1, consent=False)
    db_session.commit()
    browser.login("g1@family.test")
    assert browser.get(f"/cases/{case.id}/child-account").status_code == 404
    response = browser.post(
        f"/cases/{case.id}/child-account", {"username": "zed", "secret": "8642", "confirm": "8642"}
    )
    assert response.status_code == 404
    assert (
        db_session.scalar(select(func.count()).select_from(User).where(User.username == "zed")) == 0
    )


def test_withdrawing_consent_is_a_new_record_never_an_edit(
    browser: Browser, world: World, db_session: Session
) -> None:
    browser.login("g1@family.test")
    before = db_session.scalar(select(func.count()).select_from(ConsentRecord))
    withdraw = {"kind": ConsentKind.MESSAGING_POLICY.value, "action": ConsentAction.REVOKED.value}
    explained = browser.post(f"/family/{world.case1.id}/consent", withdraw)
    assert explained.status_code == 200 and "You leave the message threads" in explained.text
    assert db_session.scalar(select(func.count()).select_from(ConsentRecord)) == before
    response = browser.post(f"/family/{world.case1.id}/consent", {**withdraw, "confirm": "yes"})
    assert response.status_code == 303
    latest = db_session.scalars(select(ConsentRecord).order_by(ConsentRecord.id.desc())).first()
    assert latest is not None and latest.action is ConsentAction.REVOKED
    assert db_session.scalar(select(func.count()).select_from(ConsentRecord)) == (before or 0) + 1


def test_ending_a_guardian_link_ends_access_on_the_next_request(
    browser: Browser, new_browser: object, world: World, db_session: Session
) -> None:
    browser.login("g1@family.test")
    assert browser.get(f"/family/{world.case1.id}").status_code == 200
    therapist = new_browser()  # type: ignore[operator]
    therapist.login("t1@clinic.test")
    therapist.get(f"/cases/{world.case1.id}")
    response = therapist.post(f"/cases/{world.case1.id}/guardians/{world.link1.id}/end")
    assert response.status_code == 303
    assert browser.get(f"/family/{world.case1.id}").status_code in (302, 404)
    link = db_session.get(GuardianLink, world.link1.id)
    db_session.refresh(link)
    assert link is not None and link.valid_to is not None


def test_removing_a_therapist_ends_their_access(
    browser: Browser, new_browser: object, world: World, db_session: Session
) -> None:
    t1 = browser
    t1.login("t1@clinic.test")
    t1.get(f"/cases/{world.case1.id}")
    assert (
        t1.post(f"/cases/{world.case1.id}/therapists", {"email": "t2@clinic.test"}).status_code
        == 303
    )
    t2 = new_browser()  # type: ignore[operator]
    t2.login("t2@clinic.test")
    assert t2.get(f"/cases/{world.case1.id}").status_code == 200
    db_session.expire_all()
    case = db_session.get(Case, world.case1.id)
    assert case is not None
    t2_link = next(lk for lk in case.therapist_links if lk.therapist_id == world.t2.id)
    assert t1.post(f"/cases/{world.case1.id}/therapists/{t2_link.id}/end").status_code == 303
    assert t2.get(f"/cases/{world.case1.id}").status_code == 404


def test_the_last_therapist_cannot_be_removed(
    browser: Browser, world: World, db_session: Session
) -> None:
    browser.login("t1@clinic.test")
    link = world.case1.therapist_links[0]
    browser.get(f"/cases/{world.case1.id}")
    browser.post(f"/cases/{world.case1.id}/therapists/{link.id}/end")
    page = browser.get(f"/cases/{world.case1.id}").get_data(as_text=True)
    assert "A case needs at least one therapist." in page


def test_child_mode_keeps_the_child_on_their_screen_until_the_password(
    browser: Browser, world: World, db_session: Session
) -> None:
    young = make_case(db_session, world.clinic, world.t1, first="Mia", last="One", age=6)
    link_guardian(db_session, young, world.g1)
    db_session.commit()
    browser.login("g1@family.test")
    browser.get(f"/family/{young.id}")
    assert browser.post(f"/family/{young.id}/child-mode").status_code == 303
    assert "Hi Mia!" in browser.get("/me").get_data(as_text=True)
    escaped = browser.get(f"/family/{young.id}")
    assert escaped.status_code == 302 and escaped.headers["Location"] == "/me"
    assert browser.get("/caseload").headers["Location"] == "/me"
    browser.get("/me/leave")
    wrong = browser.post("/me/leave", {"password": "not my password"})
    assert wrong.status_code == 422 and "That is not the right password." in wrong.get_data(
        as_text=True
    )
    assert browser.get(f"/family/{young.id}").status_code == 302
    right = browser.post("/me/leave", {"password": PASSWORD})
    assert right.status_code == 303
    assert browser.get(f"/family/{young.id}").status_code == 200


def test_admin_adds_a_therapist_who_sets_a_password_by_link(
    browser: Browser, new_browser: object, world: World, db_session: Session
) -> None:
    browser.login("a@clinic.test")
    browser.get("/admin/therapists")
    response = browser.post(
        "/admin/therapists", {"display_name": "Dr. Uma New", "email": "uma@clinic.test"}
    )
    assert response.status_code == 303
    mail = db_session.scalars(
        select(OutboxEmail).where(OutboxEmail.to_address == "uma@clinic.test")
    ).one()
    match = re.search(r"http://portal\.test(/account/setup/\S+)", mail.body)
    assert match
    uma = new_browser()  # type: ignore[operator]
    uma.get(match.group(1))
    done = uma.post(
        match.group(1), {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/caseload"
    assert uma.get(match.group(1)).status_code == 404  # single use


def test_email_links_default_to_the_address_the_demo_serves_on(
    monkeypatch: Any, make_app: Any, db_session: Session, world: World
) -> None:
    """Issue 13: without PORTAL_BASE_URL, links point at `make demo`'s own port (PORT), never a
    hard-coded 127.0.0.1:5000; PORTAL_BASE_URL, when set, wins."""
    from portal.config import defaults

    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    monkeypatch.setenv("PORT", "5105")
    assert defaults("instance")["PORTAL_BASE_URL"] == "http://127.0.0.1:5105"
    monkeypatch.delenv("PORT")
    assert defaults("instance")["PORTAL_BASE_URL"] == "http://127.0.0.1:5000"

    served = make_app({"PORTAL_BASE_URL": "http://127.0.0.1:5105"})
    therapist = Browser(served.test_client())
    therapist.login("t1@clinic.test")
    _invite(therapist, world.case1.id, "port@family.test")
    mail = db_session.scalars(
        select(OutboxEmail).where(OutboxEmail.to_address == "port@family.test")
    ).one()
    assert "http://127.0.0.1:5105/invite/" in mail.body and "127.0.0.1:5000" not in mail.body


def test_a_therapist_keeps_a_guardian_to_their_own_household_and_lifts_it_again(
    browser: Browser, new_browser, world: World, db_session: Session
) -> None:
    """A court order, set from the case page: the effect in plain words for the therapist and
    the guardian; the family thread disappears for that guardian and comes back when lifted."""
    from portal.models import GuardianRestriction
    from portal.models.messages import MessageThread, ThreadKind

    browser.login("t1@clinic.test")
    case_url = f"/cases/{world.case1.id}"
    url = f"{case_url}/guardians/{world.link1.id}/restriction"
    assert browser.post(url, {"restriction": "sideways"}).status_code == 303
    db_session.refresh(world.link1)
    assert world.link1.restriction is GuardianRestriction.NONE  # bad input changes nothing
    assert browser.post(url, {"restriction": "own_household_only"}).status_code == 303
    page = browser.get(case_url).get_data(as_text=True)
    assert "Gwen One sees the plan, progress and check-ins" in page
    assert "Lift the restriction" in page
    db_session.refresh(world.link1)
    assert world.link1.restriction is GuardianRestriction.OWN_HOUSEHOLD_ONLY
    household = db_session.scalars(
        select(MessageThread).where(
            MessageThread.case_id == world.case1.id, MessageThread.kind == ThreadKind.HOUSEHOLD
        )
    ).one()
    assert household.guardian_id == world.g1.id  # she can still write to the therapists

    gwen = new_browser()
    gwen.login("g1@family.test")
    family = gwen.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert "the family thread shared with the other household is not shown to you" in family

    other = new_browser()
    other.login("t2@clinic.test")
    assert other.post(url, {"restriction": "none"}).status_code == 404
    assert browser.post(url, {"restriction": "none"}).status_code == 303
    db_session.refresh(world.link1)
    assert world.link1.restriction is GuardianRestriction.NONE
    assert "not shown to you" not in gwen.get(f"/family/{world.case1.id}").get_data(as_text=True)
