"""Each access layer proven on its own (AZ-02, AZ-03, AZ-09), not only behind the others.

- The policy: `can()` is called directly, without a request for a page, for every rule with
  someone it allows and someone it refuses; an ended guardian link and an ended care-team link
  refuse everything they allowed; a guardian without consent authority cannot answer a plan;
  child mode is a fact handed to `can()`, which asks no request for it.
- The scoped loaders: each is called directly with another family's id, including
  `get_attempt_for` without any case in its scope (the view's own case check is not there).
- Boundaries: an invitation or an account link at exactly its expiry instant is expired.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from flask import Flask, has_request_context
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from portal import db, policies
from portal.cases import queries as case_queries
from portal.db import utcnow
from portal.feedback import queries as feedback_queries
from portal.ladders import queries as ladder_queries
from portal.messages import queries as message_queries
from portal.models import AccountToken, GuardianLink, Invitation, PlanResponse, User
from portal.plans import queries as plan_queries
from tests.support.browser import Browser
from tests.support.builders import proposed_plan
from tests.support.rows import World, guardian_without_consent
from tests.support.scene import Scene
from tests.support.session import services_on

# rule: (someone it allows on case1, someone it refuses). "G3" is case1's guardian without consent
# authority; the others are tests/support/rows.py's people.
RULES: dict[str, tuple[str, str]] = {
    "caseload.view": ("T2", "G1"),
    "case.open": ("T1", "G1"),
    "case.view": ("G1", "T2"),
    "case.manage_team": ("T1", "T2"),
    "case.create_child_account": ("T1", "G3"),  # case1's child loses their sign-in first
    "case.enter_child_mode": ("G1", "G2"),
    "case.record_own_consent": ("G3", "G2"),
    "family.use": ("G2", "T1"),
    "child.view_own_screen": ("C1", "C2"),
    "plan.edit": ("T1", "T2"),
    "plan.read_full": ("G2", "C1"),
    "calendar.use": ("T2", "C1"),
    "plan.respond": ("G1", "G3"),
    "plan.assent": ("C1", "C2"),
    "plan.suggest": ("G3", "G2"),
    "goal.rate": ("C1", "C2"),
    "feedback.manage": ("T1", "T2"),
    "feedback.give": ("G1", "G2"),
    "ladder.edit": ("T1", "T2"),
    "ladder.view_progress": ("G1", "G2"),
    "practice.log": ("C1", "C2"),
    "practice.cheer": ("T1", "T2"),
    "step.suggest": ("G1", "G2"),
    "reward.add": ("T1", "T2"),
    "reward.approve": ("G1", "T1"),
    "reward.request": ("C1", "C2"),
    "redemption.confirm": ("G1", "G2"),
    "clinic.manage_therapists": ("A", "T1"),
    "clinic.read_audit": ("A", "T1"),
    "case.see_record_views": ("T1", "T2"),
    "messages.use": ("G2", "C1"),  # C1 is 10: no messaging below 13
    "messages.case_threads": ("G1", "G2"),
    "messages.start_family_thread": ("T1", "T2"),
    "messages.open_thread": ("T1", "G1"),
    "messages.office_hours": ("T2", "G1"),
    "rights.export": ("G1", "G2"),
    "rights.request_deletion": ("G1", "G3"),
    "rights.close_child_account": ("G1", "G3"),
    "rights.manage_requests": ("A", "T1"),
}


@pytest.fixture()
def people(in_app: Session, world: World) -> dict[str, User]:
    w = world
    return {
        "T1": w.t1,
        "T2": w.t2,
        "A": w.admin,
        "G1": w.g1,
        "G2": w.g2,
        "G3": guardian_without_consent(in_app, world),
        "C1": w.c1,
        "C2": w.c2,
    }


def _prepare(rule: str, world: World, db_session: Session) -> None:
    if rule == "case.create_child_account":
        world.case1.child.user_id = None
        db_session.commit()


def test_AZ02_every_policy_rule_is_in_the_table() -> None:
    assert sorted(RULES) == policies.actions()


@pytest.mark.parametrize("rule", sorted(RULES))
def test_AZ02_each_rule_allows_its_person_and_refuses_the_other(
    in_app: Session, world: World, people: dict[str, User], rule: str
) -> None:
    _prepare(rule, world, in_app)
    allowed, refused = RULES[rule]
    assert policies.can(people[allowed], rule, world.case1), f"{rule}: {allowed} refused"
    assert not policies.can(people[refused], rule, world.case1), f"{rule}: {refused} allowed"


# What a guardian of case1 may do as a grown-up, and what only while their child holds the device.
GROWN_UP_ONLY = (
    "plan.respond",
    "feedback.give",
    "ladder.view_progress",
    "reward.approve",
    "redemption.confirm",
    "rights.export",
    "rights.request_deletion",
)
CHILD_MODE_ONLY = ("practice.log", "reward.request")


def test_AZ02_child_mode_is_a_fact_given_to_can_not_read_from_a_request(
    app: Flask, db_session: Session, world: World
) -> None:
    with app.app_context(), db.bound(db_session):
        assert not has_request_context()
        for rule in GROWN_UP_ONLY:
            assert policies.can(world.g1, rule, world.case1, child_mode=False), rule
            assert not policies.can(world.g1, rule, world.case1, child_mode=True), rule
        for rule in CHILD_MODE_ONLY:
            assert policies.can(world.g1, rule, world.case1, child_mode=True), rule
            assert not policies.can(world.g1, rule, world.case1, child_mode=False), rule
            # Child mode is the guardian's device handed over: another family's guardian in
            # child mode still reaches nothing of case1.
            assert not policies.can(world.g2, rule, world.case1, child_mode=True), rule


def end_link(db_session: Session, world: World, actor: str) -> User:
    """End G1's guardian link, or T1's place on the care team, a second ago."""
    if actor == "G1":
        world.link1.valid_to = utcnow() - timedelta(seconds=1)
    else:
        for link in world.case1.therapist_links:
            if link.therapist_id == world.t1.id:
                link.ended_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    return world.g1 if actor == "G1" else world.t1


# Every rule G1 or T1 is allowed on case1 (creating a case is not about case1).
ENDED = [
    (who, rule) for rule, (who, _) in RULES.items() if who in ("G1", "T1") and rule != "case.open"
]


@pytest.mark.parametrize(("actor", "rule"), ENDED)
def test_AZ09_an_ended_guardian_or_care_team_link_refuses_every_rule_it_allowed(
    in_app: Session, world: World, people: dict[str, User], actor: str, rule: str
) -> None:
    _prepare(rule, world, in_app)
    assert policies.can(people[actor], rule, world.case1)
    person = end_link(in_app, world, actor)
    assert not policies.can(person, rule, world.case1), f"{rule}: {actor}'s ended link allowed"


def test_AZ02_a_guardian_without_consent_authority_cannot_answer_a_plan(
    app: Flask,
    db_session: Session,
    world: World,
    new_browser: Callable[[], Browser],
) -> None:
    g3 = guardian_without_consent(db_session, world)
    with services_on(app, db_session):
        plan = proposed_plan(world.t1, world.case1)
    browser = new_browser()
    browser.login(g3.email or "")
    response = browser.post(f"/plans/{plan.id}/respond", {"kind": "accept", "comment": ""})
    assert response.status_code == 404
    answers = db_session.scalars(
        select(PlanResponse).where(PlanResponse.plan_version_id == plan.id)
    )
    assert answers.all() == []
    link = db_session.scalars(select(GuardianLink).where(GuardianLink.guardian_id == g3.id)).one()
    assert link.is_current(utcnow()) and not link.can_consent


# --- Scoped loaders, called directly with another family's id ---------------------------------


def _loaders(scene: Scene) -> dict[str, Callable[[User, int], object]]:
    """Each loader as (user, case id) -> object. Loaders scoped by the user ignore the case id;
    loaders scoped by a case (the view loaded it first) ignore the user."""
    v = scene.values

    def id_of(name: str) -> int:
        return int(str(v[name]))

    return {
        "get_case_for": lambda user, _: case_queries.get_case_for(user, scene.world.case1.id),
        "get_plan_for": lambda user, _: plan_queries.get_plan_for(user, id_of("active_plan")),
        "get_ladder_for": lambda user, _: ladder_queries.get_ladder_for(user, id_of("ladder")),
        "get_attempt_for": lambda user, _: ladder_queries.get_attempt_for(user, id_of("attempt")),
        "get_thread_for": lambda user, _: message_queries.get_thread_for(
            user, id_of("family_thread")
        ),
        "get_problem_in": lambda _, case: plan_queries.get_problem_in(case, id_of("problem")),
        "get_task_in": lambda _, case: plan_queries.get_task_in(case, id_of("task")),
        "get_session_in": lambda _, case: feedback_queries.get_session_in(case, id_of("session")),
        "get_feedback_in": lambda _, case: feedback_queries.get_feedback_in(
            case, id_of("feedback")
        ),
        "get_alert_in": lambda _, case: feedback_queries.get_alert_in(case, id_of("alert")),
        "get_suggestion_in": lambda _, case: ladder_queries.get_suggestion_in(
            case, id_of("suggestion")
        ),
        "get_reward_in": lambda _, case: ladder_queries.get_reward_in(case, id_of("reward")),
        "get_redemption_in": lambda _, case: ladder_queries.get_redemption_in(
            case, id_of("redemption")
        ),
    }


LOADERS = [
    "get_case_for",
    "get_plan_for",
    "get_ladder_for",
    "get_attempt_for",
    "get_thread_for",
    "get_problem_in",
    "get_task_in",
    "get_session_in",
    "get_feedback_in",
    "get_alert_in",
    "get_suggestion_in",
    "get_reward_in",
    "get_redemption_in",
]


@pytest.mark.parametrize("loader", LOADERS)
def test_AZ03_a_scoped_loader_alone_hides_another_familys_object(
    app: Flask, db_session: Session, scene: Scene, loader: str
) -> None:
    load = _loaders(scene)[loader]
    w = scene.world
    with services_on(app, db_session):
        assert load(w.t1, w.case1.id) is not None  # it does find case1's object for case1
        for outsider in (w.g2, w.t2):  # another family, through the other family's case
            with pytest.raises(NotFound):
                load(outsider, w.case2.id)


# --- Exact boundary instants --------------------------------------------------------------------


def test_AZ09_an_invitation_at_exactly_its_expiry_instant_is_expired(
    db_session: Session, scene: Scene, browser: Browser
) -> None:
    invitation = db_session.get(Invitation, scene.values["invitation"])
    assert invitation is not None
    expires = invitation.expires_at
    assert invitation.is_open(expires - timedelta(microseconds=1))
    assert not invitation.is_open(expires)
    url = f"/invite/{scene.values['invitation_token']}"
    with time_machine.travel(expires - timedelta(seconds=1), tick=False):
        assert browser.get(url).status_code == 200
    with time_machine.travel(expires, tick=False):
        assert browser.get(url).status_code == 404


def test_AZ09_an_account_link_at_exactly_its_expiry_instant_is_expired(
    db_session: Session, scene: Scene, browser: Browser
) -> None:
    token = db_session.scalars(select(AccountToken).where(AccountToken.purpose == "setup")).one()
    url = f"/account/setup/{scene.values['setup_token']}"
    with time_machine.travel(token.expires_at - timedelta(seconds=1), tick=False):
        assert browser.get(url).status_code == 200
    with time_machine.travel(token.expires_at, tick=False):
        assert browser.get(url).status_code == 404
