"""The one scene builder: the people and objects that the access matrix, the security, audit and
feature tests name by id, on top of `build_world` (tests/support/rows.py).

`build_scene(app, db_session, world)` adds, through the real services where there is one:
- people: a co-therapist T3 on case1 (t3@clinic.test), T4 on case2, a colleague waiting to be
  added, a new therapist with a password-setup link, a therapist of another clinic, and a
  password-reset link of G1's;
- invitations: case1's aunt with authority (the matrix's), case1's aunt WITHOUT authority and
  case2's aunt with authority (the security tests');
- with `records=True` (the default): G3, case1's grandmother, a guardian WITHOUT consent
  authority (g3@family.test); case1's treatment plan (active v1, draft v2), ladder, family
  threads (and case2's), two sessions with feedback and an alert, and case2's deletion request.

`Scene.values` maps the names URL arguments use (COMMON_ARGUMENTS, URL_ARGUMENTS) to ids.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

from flask import Flask, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from portal import HTMX_FILE
from portal.cases.services import do_invite_guardian
from portal.db import utcnow
from portal.models import (
    AccountToken,
    CalendarFeed,
    Case,
    CaseTherapist,
    Clinic,
    Invitation,
    PlanVersion,
    Role,
    User,
)
from portal.models.plans import Goal
from portal.security import token_hash
from tests.support.builders import (
    CLINICAL_SENTINEL,
    build_data_request,
    build_feedback,
    build_ladder_scene,
    build_threads,
    family_plan,
)
from tests.support.people import HOME_OF
from tests.support.rows import World, guardian_without_consent, make_user
from tests.support.session import services_on

__all__ = ["CLINICAL_SENTINEL", "Scene", "build_scene"]

if TYPE_CHECKING:
    from tests.support.matrix import Row

ModelT = TypeVar("ModelT")

# Which object fills an argument whose name alone is ambiguous.
URL_ARGUMENTS: dict[str, dict[str, str]] = {
    "cases.end_guardian_link": {"link_id": "guardian_link"},
    "cases.set_restriction": {"link_id": "guardian_link"},
    "cases.remove_therapist": {"link_id": "therapist_link"},
    "invitations.accept": {"token": "invitation_token"},
    "auth.setup_account": {"token": "setup_token"},
    "auth.reset_password": {"token": "reset_token"},
    "auth.confirm_email": {"token": "email_confirm_token"},
    "auth.cancel_email_change": {"token": "email_cancel_token"},
    "calendar.feed": {"token": "calendar_token"},
    # The family-facing plan pages and progress ratings name the active plan; the proposal
    # answers name the open version (proposed in their rows' state); editing names the draft.
    "plans.version": {"plan_id": "active_plan"},
    "plans.changes": {"plan_id": "active_plan"},
    "plans.printable": {"plan_id": "active_plan"},
    "plans.rate_goal": {"plan_id": "active_plan", "goal_id": "active_goal"},
    "family.consent_page": {"kind": "consent_kind"},
}
COMMON_ARGUMENTS = {
    "case_id": "case",
    "invitation_id": "invitation",
    "filename": "static_file",
    "plan_id": "draft_plan",
    "goal_id": "draft_goal",
    "item_id": "draft_intervention",
    "problem_id": "problem",
    "task_id": "task",
    "ladder_id": "ladder",
    "step_id": "step",
    "attempt_id": "attempt",
    "suggestion_id": "suggestion",
    "reward_id": "reward",
    "redemption_id": "redemption",
    "thread_id": "family_thread",
    "session_id": "session",
    "feedback_id": "feedback",
    "alert_id": "alert",
    "note_id": "note",
    "request_id": "data_request",
}


@dataclass
class Scene:
    """The people and objects every access test names by id (case1's are the ones in the URLs)."""

    world: World
    values: dict[str, object]
    db_session: Session
    other_clinic: Clinic
    t3: User  # co-therapist on case1
    t3_link: CaseTherapist
    t4_link: CaseTherapist  # a co-therapist on case2
    invitation1: Invitation  # case1's aunt, invited WITHOUT legal authority
    invitation2: Invitation  # case2's aunt, with authority
    invitation1_token: str

    def missing_case_id(self) -> int:
        return int(self.db_session.scalar(select(func.max(Case.id))) or 0) + 10_000

    def url(self, app: Flask, row: Row) -> str:
        rule = rule_for(app, row.endpoint)
        names = {**COMMON_ARGUMENTS, **URL_ARGUMENTS.get(row.endpoint, {})}
        missing = rule.arguments - names.keys()
        assert not missing, (
            f"{rule.rule}: say which object fills {sorted(missing)} in URL_ARGUMENTS"
        )
        arguments = {argument: self.values[names[argument]] for argument in rule.arguments}
        with app.test_request_context():
            return url_for(row.endpoint, **arguments)

    def destination(self, name: str, actor: str) -> str:
        case1 = self.world.case1.id
        named = {
            "home": HOME_OF.get(actor, "/login"),
            "case1": f"/cases/{case1}",
            "family-of-case1": f"/family/{case1}",
            "family-of-case2": f"/family/{self.world.case2.id}",
            "draft-editor": f"/plans/{self.values['draft_plan']}/edit",
            "problem-list": f"/cases/{case1}/problems",
            "plan-hub": f"/cases/{case1}/plan",
            "family-plan": f"/family/{case1}/plan",
            "ladder-editor": f"/ladders/{self.values.get('ladder')}",
            "ladder-builder": f"/cases/{case1}/ladders",
            "ladder-progress": f"/cases/{case1}/progress",
            "family-thread": f"/messages/{self.values['family_thread']}",
            "sessions": f"/cases/{case1}/sessions",
            "case-feedback": f"/cases/{case1}/feedback",
            "before-session": f"/cases/{case1}/before-session",
            "family-checkins": f"/family/{case1}/checkins",
            "family-note": f"/family/{case1}/how-is-it-going",
            "family-data": f"/family/{case1}/data",
        }
        return named.get(name, name)

    def draft_edit_version(self) -> str:
        return str(self.current(PlanVersion, self.values["draft_plan"]).edit_version)

    def goal_edit_version(self) -> str:
        return str(self.current(Goal, self.values["draft_goal"]).edit_version)

    def current(self, model: type[ModelT], object_id: object) -> ModelT:
        found = self.db_session.get(model, object_id, populate_existing=True)
        assert found is not None
        return found


def rule_for(app: Flask, endpoint: str) -> Rule:
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
    assert len(rules) == 1, f"{endpoint} has {len(rules)} URL rules; the matrix assumes one"
    return rules[0]


def _invite(
    app: Flask, db_session: Session, actor: User, case: Case, email: str, *, authority: bool
) -> tuple[Invitation, str]:
    with services_on(app, db_session):
        new = do_invite_guardian(
            actor,
            case,
            email=email,
            relationship_label="Aunt",
            household="Aunt's house",
            has_legal_authority=authority,
            can_consent=authority,
        )
    return new.invitation, new.link.rsplit("/", 1)[1]


def build_scene(app: Flask, db_session: Session, world: World, *, records: bool = True) -> Scene:
    clinic = world.clinic
    other_clinic = Clinic(name="SENTINEL_OTHER_CLINIC_c0c0")
    db_session.add(other_clinic)
    db_session.flush()
    make_user(
        db_session,
        Role.THERAPIST,
        "Dr. SENTINEL_OTHER_CLINIC_THERAPIST",
        email="elsewhere@other.test",
        clinic=other_clinic,
    )
    t3 = make_user(
        db_session, Role.THERAPIST, "Dr. Uma Three", email="t3@clinic.test", clinic=clinic
    )
    t4 = make_user(
        db_session, Role.THERAPIST, "Dr. Vic Four", email="t4@clinic.test", clinic=clinic
    )
    make_user(
        db_session,
        Role.THERAPIST,
        "Dr. Nia Colleague",
        email="colleague@clinic.test",
        clinic=clinic,
    )
    t3_link = CaseTherapist(case_id=world.case1.id, therapist_id=t3.id, added_by_id=world.t1.id)
    t4_link = CaseTherapist(case_id=world.case2.id, therapist_id=t4.id, added_by_id=world.t2.id)
    newcomer = make_user(
        db_session, Role.THERAPIST, "Dr. Fresh Start", email="fresh@clinic.test", clinic=clinic
    )
    setup_token = secrets.token_urlsafe(32)
    reset_token = secrets.token_urlsafe(32)  # G1 asked to reset their password
    # G1 asked to sign in as gwen@moved.test: a link to confirm it, and one to cancel it.
    email_confirm_token, email_cancel_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    calendar_token = secrets.token_urlsafe(32)  # G1 subscribed a calendar app
    db_session.add_all(
        [
            t3_link,
            t4_link,
            AccountToken(
                user_id=world.g1.id,
                purpose="email_confirm",
                token_hash=token_hash(email_confirm_token),
                address="gwen@moved.test",
                expires_at=utcnow() + timedelta(hours=24),
            ),
            AccountToken(
                user_id=world.g1.id,
                purpose="email_cancel",
                token_hash=token_hash(email_cancel_token),
                address="g1@family.test",
                expires_at=utcnow() + timedelta(days=7),
            ),
            CalendarFeed(user_id=world.g1.id, token_hash=token_hash(calendar_token)),
            AccountToken(
                user_id=world.g1.id,
                purpose="reset",
                token_hash=token_hash(reset_token),
                expires_at=utcnow() + timedelta(hours=1),
            ),
            AccountToken(
                user_id=newcomer.id,
                purpose="setup",
                token_hash=token_hash(setup_token),
                expires_at=utcnow() + timedelta(days=3),
            ),
        ]
    )
    db_session.commit()
    invitation, invitation_token = _invite(
        app, db_session, world.t1, world.case1, "aunt@family.test", authority=True
    )
    invitation1, invitation1_token = _invite(
        app, db_session, world.t1, world.case1, "aunt1@family.test", authority=False
    )
    invitation2, _ = _invite(
        app, db_session, world.t2, world.case2, "aunt2@family.test", authority=True
    )
    values: dict[str, object] = {
        "case": world.case1.id,
        "guardian_link": world.link1.id,
        "therapist_link": t3_link.id,
        "invitation": invitation.id,
        "invitation_token": invitation_token,
        "setup_token": setup_token,
        "reset_token": reset_token,
        "email_confirm_token": email_confirm_token,
        "email_cancel_token": email_cancel_token,
        "calendar_token": calendar_token,
        "static_file": HTMX_FILE,
    }
    if records:
        values.update(_records(app, db_session, world))
    return Scene(
        world,
        values,
        db_session,
        other_clinic,
        t3,
        t3_link,
        t4_link,
        invitation1,
        invitation2,
        invitation1_token,
    )


def _records(app: Flask, db_session: Session, world: World) -> dict[str, object]:
    guardian_without_consent(db_session, world)
    plan = family_plan(app, db_session, world)
    goal = db_session.get(Goal, plan.active_goal)
    assert goal is not None
    w = world
    ladders = build_ladder_scene(app, db_session, w.t1, w.c1, w.case1, goal.lineage_key)
    return {
        "problem": plan.problem,
        "task": plan.task,
        "active_plan": plan.active,
        "active_goal": plan.active_goal,
        "draft_plan": plan.draft,
        "draft_goal": plan.draft_goal,
        "draft_intervention": plan.draft_item,
        **ladders,
        **build_threads(app, db_session, world),
        **build_feedback(app, db_session, world),
        "data_request": build_data_request(db_session, world),
    }
