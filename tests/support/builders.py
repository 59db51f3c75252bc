"""Builders: test data made through the real services (plans, ladders, threads, sessions and
feedback), as a therapist, family or child would make it. Each takes the people it acts as.
Builders that take `app` and `db_session` commit their work (tests.support.session.services_on);
the others run inside a caller's `services_on` or `in_app`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.feedback import notes
from portal.feedback import services as feedback
from portal.ladders import services as ladder_services
from portal.messages import services as messaging
from portal.models import Case, CaseTask, DataRequest, GuardianLink, MessageThread, ThreadKind, User
from portal.models.accounts import Role
from portal.models.feedback import AlertKind, CareAlert, NoteMood, SessionMode, SessionStatus
from portal.models.ladders import Completion, FearScale, Ladder, LadderStep
from portal.models.plans import (
    AssentChoice,
    GoalOwner,
    Informant,
    PlanStatus,
    PlanVersion,
    ProblemDomain,
    ResponseKind,
)
from portal.models.tasks import TaskKind
from portal.plans import services as plans
from tests.support.browser import Browser
from tests.support.rows import World, link_guardian, make_case, make_user
from tests.support.session import services_on

PRIVATE_NOTE = "SENTINEL_F1_TEEN_PRIVATE_NOTE_c0de"
# Clinical wording of case1's plan goals: the child never sees it, even on their own pages.
CLINICAL_SENTINEL = "SENTINEL_F1_CLINICAL_GOAL_5e6f"
F1_MESSAGE_SENTINEL = "SENTINEL_F1_MESSAGE_c0de"
F2_MESSAGE_SENTINEL = "SENTINEL_F2_MESSAGE_d00d"


# --- Plans ----------------------------------------------------------------------------------------


def a_goal(
    text: str,
    measure: str = "Brave steps done",
    target: str = "3 steps",
    *,
    clinical: str = "Clinical",
) -> plans.GoalInput:
    """A goal in the child's words; its clinical wording starts with `clinical` (a sentinel lets
    leak tests find it on a child's page)."""
    return plans.GoalInput(
        child_text=text,
        clinical_text=f"{clinical}: {text}",
        owner=GoalOwner.SHARED,
        benchmarks=[plans.BenchmarkInput(measure, target, date.today() + timedelta(days=60))],
    )


def a_problem(
    therapist: User,
    case: Case,
    child_words: str,
    clinical_words: str,
    *,
    reported_by: str = "Mother",
    rated: int = 7,
) -> None:
    """A separation problem on the case's problem list, rated by the guardian."""
    plans.do_add_problem(
        therapist,
        case,
        child_words=child_words,
        clinical_words=clinical_words,
        domain=ProblemDomain.SEPARATION,
        reported_by=reported_by,
        severities={Informant.GUARDIAN: rated},
    )


def proposed_plan(
    therapist: User, case: Case, *, sign_off: bool = True, clinical: str = "Clinical"
) -> PlanVersion:
    """A first plan with one problem and two goals, proposed to the family."""
    a_problem(therapist, case, "I get scared when Mum leaves", "Separation distress at drop-off")
    draft = plans.do_start_draft(therapist, case)
    plans.do_add_goal(
        therapist, draft, case, a_goal("Say goodbye at school with a smile", clinical=clinical)
    )
    plans.do_add_goal(therapist, draft, case, a_goal("Sleep in my own bed", clinical=clinical))
    plans.do_save_plan_details(
        therapist,
        draft,
        expected_edit_version=draft.edit_version,
        change_summary="Our first plan together.",
        review_interval_days=90,
    )
    plans.do_propose(therapist, draft, expected_edit_version=draft.edit_version, sign_off=sign_off)
    return draft


@dataclass(frozen=True)
class PlanObjects:
    """One case's treatment plan: an active v1 (accepted and assented) and a draft v2 copied from
    it with one intervention, two problems and a family suggestion waiting as a task."""

    problem: int
    task: int
    active: int
    active_goal: int
    draft: int
    draft_goal: int
    draft_item: int


def build_plan(
    app: Flask,
    db_session: Session,
    case: Case,
    therapist: User,
    guardian: User,
    child: User,
    *,
    clinical: str = "Clinical",
) -> PlanObjects:
    with services_on(app, db_session):
        active = proposed_plan(therapist, case, clinical=clinical)
        a_problem(
            therapist, case, "Bedtime is scary", "Bedtime refusal", reported_by="Father", rated=6
        )
        plans.do_guardian_response(guardian, active, case, kind=ResponseKind.ACCEPT, comment="")
        plans.do_record_assent(child, active, case, choice=AssentChoice.YES)
        assert active.status is PlanStatus.ACTIVE
        draft = plans.do_start_draft(therapist, case)
        draft.change_summary = "We add a goal about mornings."
        plans.do_add_intervention(
            therapist, draft, what="Brave ladder", who="Family", how_often="Daily"
        )
        task = plans.do_suggest_priorities(guardian, case, "Mornings are hardest")
        problem = plans.ordered_problems(case)[0]
    return PlanObjects(
        problem.id,
        task.id,
        active.id,
        active.goals[0].id,
        draft.id,
        draft.goals[0].id,
        draft.interventions[0].id,
    )


def family_plan(app: Flask, db_session: Session, world: World) -> PlanObjects:
    """Case1's plan, made by T1 with G1 and C1; its goals' clinical wording is CLINICAL_SENTINEL."""
    w = world
    return build_plan(app, db_session, w.case1, w.t1, w.g1, w.c1, clinical=CLINICAL_SENTINEL)


# --- Ladders --------------------------------------------------------------------------------------


PRACTICE_KEY = re.compile(r'name="idempotency_key" type="hidden" value="([^"]+)"')


def a_ladder(
    therapist: User,
    case: Case,
    ratings: tuple[float, ...] = (2, 3.5, 5, 6.5, 8),
    *,
    lineage_key: str = "goal-lineage-1",
    **rule: int,
) -> tuple[Ladder, list[LadderStep]]:
    ladder = ladder_services.do_create_ladder(
        therapist, case, goal_lineage_key=lineage_key, title="Brave with dogs", **rule
    )
    steps = [
        ladder_services.do_add_step(
            therapist, ladder, title=f"Step rated {rating}", fear_score=round(rating * 10)
        )
        for rating in ratings
    ]
    return ladder, steps


def practice(
    actor: User,
    case: Case,
    step: LadderStep,
    *,
    peak: int,
    scale: FearScale = FearScale.THERMOMETER_10,
    completion: Completion = Completion.FULL,
    when: datetime | None = None,
    key: str | None = None,
    note: str = "",
    private: bool = False,
    on_behalf: bool = False,
    prediction: str = "",
    outcome: str = "",
) -> ladder_services.PracticeResult:
    data = ladder_services.PracticeInput(
        ratings=ladder_services.Ratings(scale, peak=peak),
        completion=completion,
        idempotency_key=key or str(uuid.uuid4()),
        prediction=prediction,
        outcome=outcome,
        note=note,
        note_private=private,
        practiced_at=when,
    )
    return ladder_services.do_log_practice(
        actor, case, step, data, on_behalf_of_child=on_behalf, private_notes_allowed=private
    )


def thermometer_form(browser: Browser, step_id: int, **answers: str) -> dict[str, str]:
    """A filled-in practice form of an 8-12 year old (the thermometer), with the key the page
    gave; `answers` change or add fields."""
    page = browser.get(f"/me/ladder/steps/{step_id}")
    assert page.status_code == 200
    match = PRACTICE_KEY.search(page.get_data(as_text=True))
    assert match
    form = {
        "idempotency_key": match.group(1),
        "when": "now",
        "fear_before": "4",
        "fear_peak": "6",
        "fear_after": "2",
        "completion": "partial",
        "coach": "",
        "prediction": "The dog will bark at me",
        "outcome": "It did not even look at me",
        "duration_minutes": "10",
    }
    form.update(answers)
    return form


def build_ladder_scene(
    app: Flask, db_session: Session, therapist: User, child: User, case: Case, goal_key: str
) -> dict[str, object]:
    """Case1's ladder for the access matrix: three steps, one practice (3 tokens, with a
    prediction and what happened), a waiting step idea, an approved 1-token reward and a request
    for it waiting for a guardian."""
    with services_on(app, db_session):
        ladder, steps = a_ladder(therapist, case, (2, 3.5, 5), lineage_key=goal_key)
        attempt = practice(
            child,
            case,
            steps[0],
            peak=3,
            prediction="The dog will bark at me",
            outcome="It did not bark",
        ).attempt
        idea = ladder_services.do_suggest_step(
            child, case, ladder, title="Look at the dog next door", on_behalf_of_child=False
        )
        reward = ladder_services.do_add_reward(
            therapist, case, title="Sticker", cost=1, approve=False
        )
        ladder_services.do_approve_reward(therapist, reward)
        redemption = ladder_services.do_request_reward(
            child, case, reward, on_behalf_of_child=False
        )
    return {
        "goal_key": goal_key,
        "ladder": ladder.id,
        "step": steps[0].id,
        "attempt": attempt.id,
        "suggestion": idea.id,
        "reward": reward.id,
        "redemption": redemption.id,
    }


# --- Messages -------------------------------------------------------------------------------------


def post(
    author: User,
    thread: MessageThread,
    case: Case,
    body: str,
    *,
    now: datetime | None = None,
) -> messaging.Sent:
    return messaging.do_send_message(
        author, thread, case, body=body, idempotency_key=str(uuid.uuid4()), now=now
    )


def build_threads(app: Flask, db_session: Session, world: World) -> dict[str, int]:
    """Case1's family thread with one message from T1, and case2's with one from T2."""
    with services_on(app, db_session):
        family1 = messaging.do_open_thread(world.t1, world.case1, ThreadKind.FAMILY)
        post(world.t1, family1, world.case1, f"Welcome to the thread. {F1_MESSAGE_SENTINEL}")
        family2 = messaging.do_open_thread(world.t2, world.case2, ThreadKind.FAMILY)
        post(world.t2, family2, world.case2, f"Hello family two. {F2_MESSAGE_SENTINEL}")
    return {"family_thread": family1.id, "other_family_thread": family2.id}


def second_household(db_session: Session, world: World) -> tuple[User, GuardianLink]:
    """Case1's other parent, living in another household."""
    dad = make_user(db_session, Role.GUARDIAN, "Dan One", email="dan1@family.test")
    link = link_guardian(
        db_session, world.case1, dad, household="Dad's flat", relationship="Father"
    )
    db_session.commit()
    return dad, link


def teen_case(db_session: Session, world: World) -> tuple[Case, User, User]:
    """A 14-year-old with their own sign-in on T1's caseload, and their guardian."""
    case = make_case(db_session, world.clinic, world.t1, first="Tia", last="Teen", age=14)
    teen = make_user(db_session, Role.CHILD, "Tia", username="tia14")
    case.child.user_id = teen.id
    mum = make_user(db_session, Role.GUARDIAN, "Tess Teenmum", email="tmum@family.test")
    link_guardian(db_session, case, mum)
    db_session.commit()
    return case, teen, mum


def active_plan_for(
    app: Flask, db_session: Session, therapist: User, case: Case, guardian: User, child: User
) -> PlanVersion:
    """A signed-off, accepted and assented plan with two goals."""
    with services_on(app, db_session):
        plan = proposed_plan(therapist, case)
        plans.do_guardian_response(guardian, plan, case, kind=ResponseKind.ACCEPT, comment="")
        plans.do_record_assent(child, plan, case, choice=AssentChoice.YES)
        assert plan.status is PlanStatus.ACTIVE
    return plan


# --- Sessions, feedback and data requests ---------------------------------------------------------


def build_feedback(app: Flask, db_session: Session, world: World) -> dict[str, int]:
    """Two held sessions of case1: G1 rated the first low (raising an alert); the second waits."""
    # Case1's guardians (Gwen, and G3 when the scene has her) joined before both sessions and came
    # to them with Cody.
    links = db_session.scalars(
        select(GuardianLink).where(GuardianLink.case_id == world.case1.id)
    ).all()
    came = {feedback.child_key(world.case1): SessionMode.IN_PERSON}
    for link in links:
        link.valid_from = utcnow() - timedelta(days=30)
        came[feedback.guardian_key(link.guardian_id)] = SessionMode.IN_PERSON
    db_session.expire(world.case1, ["guardian_links"])
    with services_on(app, db_session):
        earlier, latest = (
            feedback.do_record_session(
                world.t1,
                world.case1,
                starts_at=utcnow() - timedelta(days=days),
                mode=SessionMode.IN_PERSON,
                status=SessionStatus.HELD,
                attendees="Cody and Gwen",
                attendance=came,
            )
            for days in (8, 1)
        )
        feedback.do_record_session(  # the next session, for the calendar (issue 13)
            world.t1,
            world.case1,
            starts_at=utcnow() + timedelta(days=3),
            mode=SessionMode.VIDEO,
            status=SessionStatus.SCHEDULED,
            attendees="",
        )
        given = feedback.do_submit_guardian_feedback(
            world.g1,
            world.case1,
            earlier,
            heard=2,
            matters=6,
            approach=6,
            overall=5,
            comment="SENTINEL_F1_FEEDBACK_TEXT_d00d",
            idempotency_key=str(uuid.uuid4()),
        )
        note = notes.do_send_note(
            world.g1,
            world.case1,
            mood=NoteMood.HARD,
            text="SENTINEL_F1_NOTE_TEXT_e11e",
            idempotency_key=str(uuid.uuid4()),
        )
    alert = db_session.scalars(select(CareAlert).where(CareAlert.case_id == world.case1.id)).one()
    return {
        "session": latest.id,
        "feedback": given.id,
        "alert": alert.id,
        "note": note.id,
        "consent_kind": "portal_terms",
    }


def build_data_request(db_session: Session, world: World) -> int:
    """Case2's guardian asked the clinic to delete their child's data."""
    request = DataRequest(case_id=world.case2.id, requested_by_id=world.g2.id, reason="Moving")
    db_session.add(request)
    db_session.commit()
    return request.id


# --- A child's record with private parts (data rights, retention) --------------------------------

OWN_FEEDBACK = "G1_OWN_FEEDBACK_visible_3a1b"
OTHER_GUARDIAN = "SENTINEL_OTHER_GUARDIAN_FEEDBACK_51c2"
THERAPIST_NOTE = "SENTINEL_THERAPIST_WORKING_NOTE_6d7e"
TASK_NOTE = "SENTINEL_THERAPIST_TASK_8f90"
CHILD_PRIVATE = "SENTINEL_CHILD_PRIVATE_NOTE_a1b2"
DRAFT_TEXT = "SENTINEL_DRAFT_PLAN_c3d4"
CHILD_WORDS = "CHILD_OWN_WORDS_e5f6"
PRIVATE_MARKS = (OTHER_GUARDIAN, THERAPIST_NOTE, TASK_NOTE, CHILD_PRIVATE, DRAFT_TEXT)


def seed_record(app: Flask, db_session: Session, world: World) -> dict[str, int]:
    """Case1 with practice (one note private), two guardians' feedback, therapist notes, a draft."""
    dad, dad_link = second_household(db_session, world)
    # Both parents joined the care team before the session they give feedback on.
    dad_link.valid_from = world.link1.valid_from = utcnow() - timedelta(days=30)
    with services_on(app, db_session):
        _, steps = a_ladder(world.t1, world.case1, (2, 3.5))
        shared = practice(world.c1, world.case1, steps[0], peak=3, note=CHILD_WORDS).attempt
        hidden = practice(
            world.c1, world.case1, steps[0], peak=2, note=CHILD_PRIVATE, private=True
        ).attempt
        session = feedback.do_record_session(
            world.t1,
            world.case1,
            starts_at=utcnow() - timedelta(days=2),
            mode=SessionMode.IN_PERSON,
            status=SessionStatus.HELD,
            attendees="Cody",
            attendance={
                feedback.guardian_key(guardian.id): SessionMode.IN_PERSON
                for guardian in (world.g1, dad)
            },
        )
        for guardian, comment in ((world.g1, OWN_FEEDBACK), (dad, OTHER_GUARDIAN)):
            feedback.do_submit_guardian_feedback(
                guardian,
                world.case1,
                session,
                heard=8,
                matters=8,
                approach=8,
                overall=8,
                comment=comment,
                idempotency_key=str(uuid.uuid4()),
            )
        draft = plans.do_start_draft(world.t1, world.case1)
        draft.change_summary = DRAFT_TEXT
    db_session.add_all(
        [
            CareAlert(
                case_id=world.case1.id,
                kind=AlertKind.LOW_RATING,
                summary="Low rating",
                evidence="feedback:1",
                dedupe_key=f"test-{uuid.uuid4()}",
                resolved_at=utcnow(),
                resolved_by_id=world.t1.id,
                resolution_note=THERAPIST_NOTE,
            ),
            CaseTask(
                case_id=world.case1.id,
                kind=TaskKind.PLAN_COMMENT,
                summary="Follow up",
                detail=TASK_NOTE,
                created_by_id=world.t1.id,
            ),
        ]
    )
    db_session.commit()
    return {"shared": shared.id, "hidden": hidden.id, "draft": draft.id}
