"""Scoped reads for plans: a version outside the user's cases, or one they may not see yet
(a draft, for a family), is simply not found (404)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import db
from portal.cases.queries import get_in_case, reached, visible_case_ids
from portal.models import Case, User
from portal.models.plans import (
    Goal,
    GoalProgress,
    Intervention,
    PlanResponse,
    PlanStatus,
    PlanVersion,
    Problem,
)
from portal.models.tasks import CaseTask

FAMILY_VISIBLE = (PlanStatus.PROPOSED, PlanStatus.ACTIVE, PlanStatus.SUPERSEDED)
CHILD_VISIBLE = (PlanStatus.PROPOSED, PlanStatus.ACTIVE)


def visible_statuses(user: User) -> tuple[PlanStatus, ...]:
    if user.is_therapist:
        return tuple(PlanStatus)
    if user.is_guardian:
        return FAMILY_VISIBLE
    return CHILD_VISIBLE


@cache
def _content() -> tuple[Any, ...]:
    """A version's goals (with benchmarks and problems) and interventions: a fixed number of
    queries, never one per goal. Built on first use: loader options configure every mapper, which
    `import wsgi` need not pay (issue 17)."""
    return (
        selectinload(PlanVersion.goals).joinedload(Goal.benchmarks),
        selectinload(PlanVersion.goals).selectinload(Goal.problems),
        selectinload(PlanVersion.interventions),
    )


def previous_active_version(case: Case, plan: PlanVersion) -> PlanVersion | None:
    """What "what changed" compares against: the plan in force before this version (the active
    one, for a draft or proposal), with its content loaded."""
    stmt = select(PlanVersion).where(PlanVersion.case_id == case.id).options(*_content())
    if plan.status in (PlanStatus.PROPOSED, PlanStatus.DRAFT):
        stmt = stmt.where(PlanVersion.status == PlanStatus.ACTIVE)
    else:
        stmt = stmt.where(
            PlanVersion.number < plan.number, PlanVersion.activated_at.is_not(None)
        ).order_by(PlanVersion.number.desc())
    return db.session.scalars(stmt.limit(1)).first()


def get_plan_for(user: User, plan_id: int) -> PlanVersion:
    plan = db.session.scalars(
        select(PlanVersion)
        .where(
            PlanVersion.id == plan_id,
            PlanVersion.case_id.in_(visible_case_ids(user)),
            PlanVersion.status.in_(visible_statuses(user)),
        )
        .options(
            *_content(),
            selectinload(PlanVersion.responses).selectinload(PlanResponse.responder),
        )
    ).one_or_none()
    return reached(plan, "plan")


def get_goal_in(plan: PlanVersion, goal_id: int) -> Goal:
    goal = next((g for g in plan.goals if g.id == goal_id), None)
    return reached(goal, "goal", plan.case_id)


def get_intervention_in(plan: PlanVersion, item_id: int) -> Intervention:
    item = next((i for i in plan.interventions if i.id == item_id), None)
    return reached(item, "intervention", plan.case_id)


def get_problem_in(case_id: int, problem_id: int) -> Problem:
    return get_in_case(Problem, "problem", case_id, problem_id)


def get_task_in(case_id: int, task_id: int) -> CaseTask:
    return get_in_case(CaseTask, "task", case_id, task_id)


def open_tasks(case_id: int) -> list[CaseTask]:
    return list(
        db.session.scalars(
            select(CaseTask)
            .where(CaseTask.case_id == case_id, CaseTask.resolved_at.is_(None))
            .order_by(CaseTask.id)
        )
    )


def progress_by_goal(case_id: int) -> dict[str, list[GoalProgress]]:
    ratings = db.session.scalars(
        select(GoalProgress)
        .where(GoalProgress.case_id == case_id)
        .options(selectinload(GoalProgress.rater))
        .order_by(GoalProgress.rated_at, GoalProgress.id)
    )
    grouped: dict[str, list[GoalProgress]] = {}
    for rating in ratings:
        grouped.setdefault(rating.lineage_key, []).append(rating)
    return grouped
