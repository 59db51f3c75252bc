"""Scoped reads for plans: a version outside the user's cases, or one they may not see yet
(a draft, for a family), is simply not found (404)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import selectinload

from portal import db
from portal.audit_trail import accessed
from portal.cases.queries import case_ids_visible_to, get_in_case, reached, visible_case_ids
from portal.db import utcnow, written
from portal.models import Case, Child, Role, User
from portal.models.plans import (
    Benchmark,
    Goal,
    GoalOwner,
    GoalProgress,
    Intervention,
    PlanResponse,
    PlanStatus,
    PlanVersion,
    Problem,
    goal_problems,
)
from portal.models.tasks import CaseTask

FAMILY_VISIBLE = (PlanStatus.PROPOSED, PlanStatus.ACTIVE, PlanStatus.SUPERSEDED)
CHILD_VISIBLE = (PlanStatus.PROPOSED, PlanStatus.ACTIVE)


def visible_statuses(user: User) -> tuple[PlanStatus, ...]:
    return _statuses_of(user.role)


def _statuses_of(role: Role) -> tuple[PlanStatus, ...]:
    if role is Role.THERAPIST:
        return tuple(PlanStatus)
    if role is Role.GUARDIAN:
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


# "What changed" (issue 17): two versions side by side, read as plain columns by statements built
# once, instead of two versions with their goals, benchmarks, problems, interventions and answers
# as objects (ten statements, most of the page's cost).


@dataclass(frozen=True)
class BenchmarkText:
    measure: str
    target: str
    due_on: date


@dataclass(frozen=True)
class ProblemText:
    child_words: str


@dataclass
class GoalText:
    """A goal as "what changed" compares and shows it (`plans/_goal_summary.html`)."""

    id: int
    lineage_key: str
    position: int
    child_text: str
    clinical_text: str
    owner: GoalOwner
    benchmarks: list[BenchmarkText] = field(default_factory=list)
    problems: list[ProblemText] = field(default_factory=list)


@dataclass(frozen=True)
class InterventionText:
    what: str
    who: str
    how_often: str


@dataclass
class VersionText:
    """A plan version's words: what `changes.describe_changes` compares, and the page shows."""

    id: int
    case_id: int
    number: int
    status: PlanStatus
    change_summary: str
    review_interval_days: int
    goals: list[GoalText] = field(default_factory=list)
    interventions: list[InterventionText] = field(default_factory=list)


_VERSION_COLUMNS = (
    PlanVersion.id,
    PlanVersion.case_id,
    PlanVersion.number,
    PlanVersion.status,
    PlanVersion.change_summary,
    PlanVersion.review_interval_days,
)


@dataclass(frozen=True)
class ChildName:
    first_name: str


@dataclass(frozen=True)
class CaseOfPlan:
    """A version's case as "what changed" needs it: the child's first name (who leads a goal)."""

    id: int
    child_id: int
    child: ChildName


@cache
def _plan_text_statement(role: Role) -> Select[int, int, int, PlanStatus, str, int, int, str]:
    """`get_plan_for`'s scope, with the person, the moment and the statuses they see bound; the
    case's child comes along (the version's case is in the same scope)."""
    visible = case_ids_visible_to(role, bindparam("user_id"), bindparam("now"))
    return (
        select(*_VERSION_COLUMNS, Case.child_id, Child.first_name)
        .join(Case, Case.id == PlanVersion.case_id)
        .join(Child, Child.id == Case.child_id)
        .where(
            PlanVersion.id == bindparam("plan_id"),
            PlanVersion.case_id.in_(visible),
            PlanVersion.status.in_([written(status) for status in _statuses_of(role)]),
        )
    )


def get_plan_text_for(user: User, plan_id: int) -> tuple[VersionText, CaseOfPlan]:
    """The version `get_plan_for` finds (404 and audit alike), as words without its content, and
    its case. The view names the case to the audit trail (`reached_case`) once it may read on."""
    row = db.read_columns(
        _plan_text_statement(user.role),
        {
            "plan_id": plan_id,
            "user_id": user.id,
            "now": utcnow(),
        },
    ).first()
    plan = reached(VersionText(*row[:6]) if row is not None else None, "plan")
    assert row is not None
    return plan, CaseOfPlan(plan.case_id, row.child_id, ChildName(row.first_name))


def reached_case(case: CaseOfPlan) -> None:
    """The case, for the audit trail, as `get_case_for` names it."""
    accessed("case", case.id, case_id=case.id, child_id=case.child_id)


@cache
def _previous_statements() -> tuple[
    Select[int, int, int, PlanStatus, str, int], Select[int, int, int, PlanStatus, str, int]
]:
    in_case = select(*_VERSION_COLUMNS).where(PlanVersion.case_id == bindparam("case_id"))
    return (
        in_case.where(PlanVersion.status == written(PlanStatus.ACTIVE)).limit(1),
        in_case.where(
            PlanVersion.number < bindparam("number"), PlanVersion.activated_at.is_not(None)
        )
        .order_by(PlanVersion.number.desc())
        .limit(1),
    )


def previous_active_text(case: CaseOfPlan, plan: VersionText) -> VersionText | None:
    """What "what changed" compares against: the plan in force before this version (the active
    one, for a draft or proposal), as words, without its content (`load_content`)."""
    active, earlier = _previous_statements()
    if plan.status in (PlanStatus.PROPOSED, PlanStatus.DRAFT):
        row = db.read_columns(active, {"case_id": case.id}).first()
    else:
        row = db.read_columns(earlier, {"case_id": case.id, "number": plan.number}).first()
    return VersionText(*row) if row is not None else None


@cache
def _content_statements() -> tuple[Any, Any]:
    versions: Any = bindparam("version_ids", expanding=True)
    # A goal's benchmarks and problems come joined with it: a row for each pair (a goal has a few
    # of each), told apart by their ids below.
    goals = (
        select(
            Goal.plan_version_id,
            Goal.id,
            Goal.lineage_key,
            Goal.position,
            Goal.child_text,
            Goal.clinical_text,
            Goal.owner,
            Benchmark.id,
            Benchmark.measure,
            Benchmark.target,
            Benchmark.due_on,
            Problem.id,
            Problem.child_words,
        )
        .outerjoin(Benchmark, Benchmark.goal_id == Goal.id)
        .outerjoin(goal_problems, goal_problems.c.goal_id == Goal.id)
        .outerjoin(Problem, Problem.id == goal_problems.c.problem_id)
        .where(Goal.plan_version_id.in_(versions))
        .order_by(Goal.plan_version_id, Goal.position, Goal.id, Benchmark.id, Problem.id)
    )
    interventions = (
        select(
            Intervention.plan_version_id,
            Intervention.what,
            Intervention.who,
            Intervention.how_often,
        )
        .where(Intervention.plan_version_id.in_(versions))
        .order_by(Intervention.plan_version_id, Intervention.position, Intervention.id)
    )
    return goals, interventions


def load_content(*versions: VersionText | None) -> None:
    """The goals (each with its benchmarks and problems, in id order) and interventions of these
    versions, in the order the plan pages show them: two statements however many versions and
    goals."""
    by_id = {version.id: version for version in versions if version is not None}
    if not by_id:
        return
    goals_stmt, interventions_stmt = _content_statements()
    ids = {"version_ids": list(by_id)}
    goals: dict[int, GoalText] = {}
    seen: set[tuple[Any, ...]] = set()
    for row in db.read_columns(goals_stmt, ids):
        version_id, goal_id, key, position, child, clinical, owner = row[:7]
        benchmark_id, measure, target, due_on, problem_id, child_words = row[7:]
        goal = goals.get(goal_id)
        if goal is None:
            goal = goals[goal_id] = GoalText(goal_id, key, position, child, clinical, owner)
            by_id[version_id].goals.append(goal)
        if benchmark_id is not None and ("benchmark", benchmark_id) not in seen:
            seen.add(("benchmark", benchmark_id))
            goal.benchmarks.append(BenchmarkText(measure, target, due_on))
        if problem_id is not None and ("problem", goal_id, problem_id) not in seen:
            seen.add(("problem", goal_id, problem_id))
            goal.problems.append(ProblemText(child_words))
    for version_id, what, who, how_often in db.read_columns(interventions_stmt, ids):
        by_id[version_id].interventions.append(InterventionText(what, who, how_often))
