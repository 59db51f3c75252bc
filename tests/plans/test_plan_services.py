"""The clinical rules of the plan, tested without HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.models import AssentChoice, PlanStatus, PlanVersion, ResponseKind
from portal.models.tasks import CaseTask, TaskKind
from portal.plans import services
from portal.plans.changes import describe_changes
from tests.support.builders import a_goal, proposed_plan
from tests.support.rows import World


def test_a_version_activates_only_with_sign_off_acceptance_and_assent(
    in_app: Session, world: World
) -> None:
    plan = proposed_plan(world.t1, world.case1, sign_off=False)
    assert plan.status is PlanStatus.PROPOSED
    services.do_guardian_response(world.g1, plan, world.case1, kind=ResponseKind.ACCEPT, comment="")
    services.do_record_assent(world.c1, plan, world.case1, choice=AssentChoice.YES)
    assert plan.status is PlanStatus.PROPOSED  # no therapist sign-off yet
    assert services.activation_status(plan) == {
        "signed_off": False,
        "guardian_accepted": True,
        "child_assented": True,
    }
    services.do_sign_off(world.t1, plan)
    assert plan.status is PlanStatus.ACTIVE
    assert plan.review_due_on == utcnow().date() + timedelta(days=90)


def test_not_yet_from_the_child_blocks_activation_and_tells_the_therapist(
    in_app: Session, world: World
) -> None:
    plan = proposed_plan(world.t1, world.case1)
    services.do_guardian_response(world.g1, plan, world.case1, kind=ResponseKind.ACCEPT, comment="")
    services.do_record_assent(world.c1, plan, world.case1, choice=AssentChoice.NO, comment="scary")
    assert plan.status is PlanStatus.PROPOSED
    kinds = in_app.scalars(select(CaseTask.kind).where(CaseTask.case_id == world.case1.id)).all()
    assert TaskKind.CHILD_NOT_READY in kinds
    services.do_record_assent(world.c1, plan, world.case1, choice=AssentChoice.NOT_SURE)
    assert plan.status is PlanStatus.ACTIVE  # "not sure, but I'll try" is assent


def test_a_guardian_without_consent_authority_does_not_activate_it(
    in_app: Session, world: World
) -> None:
    world.link1.can_consent = False
    in_app.flush()
    plan = proposed_plan(world.t1, world.case1)
    services.do_guardian_response(world.g1, plan, world.case1, kind=ResponseKind.ACCEPT, comment="")
    services.do_record_assent(world.c1, plan, world.case1, choice=AssentChoice.YES)
    assert plan.status is PlanStatus.PROPOSED


def test_activating_a_revision_supersedes_the_previous_active_version(
    in_app: Session, world: World
) -> None:
    first = proposed_plan(world.t1, world.case1)
    services.do_guardian_response(
        world.g1, first, world.case1, kind=ResponseKind.ACCEPT, comment=""
    )
    services.do_record_assent(world.c1, first, world.case1, choice=AssentChoice.YES)
    assert first.status is PlanStatus.ACTIVE

    draft = services.do_start_draft(world.t1, world.case1)
    assert draft.number == 2 and [g.child_text for g in draft.goals] == [
        g.child_text for g in first.goals
    ]
    assert {g.lineage_key for g in draft.goals} == {g.lineage_key for g in first.goals}
    services.do_add_goal(world.t1, draft, world.case1, a_goal("Go to a birthday party"))
    services.do_save_plan_details(
        world.t1,
        draft,
        expected_edit_version=draft.edit_version,
        change_summary="We add a goal about parties.",
        review_interval_days=60,
    )
    services.do_propose(world.t1, draft, expected_edit_version=draft.edit_version, sign_off=True)
    services.do_guardian_response(
        world.g1, draft, world.case1, kind=ResponseKind.ACCEPT, comment=""
    )
    services.do_record_assent(world.c1, draft, world.case1, choice=AssentChoice.YES)
    assert draft.status is PlanStatus.ACTIVE
    assert first.status is PlanStatus.SUPERSEDED and first.ended_at is not None
    active = in_app.scalar(
        select(func.count())
        .select_from(PlanVersion)
        .where(PlanVersion.case_id == world.case1.id, PlanVersion.status == PlanStatus.ACTIVE)
    )
    assert active == 1


def test_a_proposed_version_never_changes(in_app: Session, world: World) -> None:
    plan = proposed_plan(world.t1, world.case1)
    with pytest.raises(services.PlanRuleError):
        services.do_add_goal(world.t1, plan, world.case1, a_goal("Sneaky change"))
    with pytest.raises(services.PlanRuleError):
        services.do_save_plan_details(
            world.t1,
            plan,
            expected_edit_version=plan.edit_version,
            change_summary="edited",
            review_interval_days=90,
        )
    # Editing makes a new draft from it and withdraws the proposal.
    draft = services.do_start_draft(world.t1, world.case1)
    assert plan.status is PlanStatus.CLOSED and draft.status is PlanStatus.DRAFT


def test_RL03_a_stale_edit_is_refused_and_the_first_save_is_kept(
    in_app: Session, world: World
) -> None:
    draft = services.do_start_draft(world.t1, world.case1)
    opened_at = draft.edit_version
    services.do_save_plan_details(
        world.t1,
        draft,
        expected_edit_version=opened_at,
        change_summary="First therapist's words",
        review_interval_days=90,
    )
    with pytest.raises(services.EditConflict):
        services.do_save_plan_details(
            world.t2,
            draft,
            expected_edit_version=opened_at,
            change_summary="Second therapist's words",
            review_interval_days=90,
        )
    assert draft.change_summary == "First therapist's words"


def test_proposing_needs_two_to_four_goals_with_benchmarks_and_a_summary(
    in_app: Session, world: World
) -> None:
    draft = services.do_start_draft(world.t1, world.case1)
    services.do_add_goal(world.t1, draft, world.case1, a_goal("Only one goal"))
    with pytest.raises(services.PlanRuleError) as refused:
        services.do_propose(
            world.t1, draft, expected_edit_version=draft.edit_version, sign_off=True
        )
    assert "2 to 4 goals" in str(refused.value) and "summary" in str(refused.value)
    for text in ("Two", "Three", "Four"):
        services.do_add_goal(world.t1, draft, world.case1, a_goal(text))
    with pytest.raises(services.PlanRuleError, match="at most 4"):
        services.do_add_goal(world.t1, draft, world.case1, a_goal("Five"))


def test_requests_for_changes_become_tasks_on_the_caseload(in_app: Session, world: World) -> None:
    plan = proposed_plan(world.t1, world.case1)
    with pytest.raises(services.PlanRuleError):
        services.do_guardian_response(
            world.g1, plan, world.case1, kind=ResponseKind.REQUEST_CHANGES, comment="  "
        )
    services.do_guardian_response(
        world.g1, plan, world.case1, kind=ResponseKind.REQUEST_CHANGES, comment="Bedtime first"
    )
    task = in_app.scalars(select(CaseTask).where(CaseTask.case_id == world.case1.id)).one()
    assert task.kind is TaskKind.PLAN_CHANGES_REQUESTED and task.detail == "Bedtime first"


def test_RL04_the_database_refuses_two_active_versions(in_app: Session, world: World) -> None:
    for number in (1, 2):
        in_app.add(
            PlanVersion(
                case_id=world.case1.id,
                number=number,
                status=PlanStatus.ACTIVE,
                created_by_id=world.t1.id,
            )
        )
    with pytest.raises(IntegrityError):
        in_app.flush()
    in_app.rollback()


def test_what_changed_speaks_in_plain_words(in_app: Session, world: World) -> None:
    first = proposed_plan(world.t1, world.case1)
    draft = services.do_start_draft(world.t1, world.case1)
    kept, dropped = draft.goals
    services.do_save_goal(
        world.t1,
        kept,
        world.case1,
        a_goal("Say goodbye at the school gate", target="4 mornings of 5"),
        expected_edit_version=kept.edit_version,
    )
    services.do_remove_goal(world.t1, dropped)
    services.do_add_goal(world.t1, draft, world.case1, a_goal("Play at a friend's house"))
    changes = describe_changes(first, draft)
    headlines = [(c.kind, c.headline) for c in changes]
    assert ("changed", "A goal is worded differently") in headlines
    assert ("added", "A new goal") in headlines
    assert ("removed", "A goal was taken out") in headlines
    assert any(c.before == "Sleep in my own bed" for c in changes)
    assert any("4 mornings of 5" in c.after for c in changes)


def test_a_new_review_interval_is_said_in_the_readers_language(
    in_app: Session, world: World
) -> None:
    """ "What changed" named the review interval in English ("every 60 days") to Spanish readers."""
    from flask_babel import force_locale

    first = proposed_plan(world.t1, world.case1)
    draft = services.do_start_draft(world.t1, world.case1)
    services.do_save_plan_details(
        world.t1,
        draft,
        expected_edit_version=draft.edit_version,
        change_summary="Review less often.",
        review_interval_days=first.review_interval_days + 30,
    )
    with force_locale("es_US"):
        changes = describe_changes(first, draft)
    interval = next(c for c in changes if c.after and "días" in c.after)
    assert interval.after == f"cada {first.review_interval_days + 30} días"
    assert "every" not in interval.before
