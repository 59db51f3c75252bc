"""The clinical rules of the problem list and the treatment plan.

Each `do_*` takes the actor explicitly and flushes; the view commits once. Rules: a proposed or
active version never changes (editing makes a new draft); a version becomes active only with
therapist sign-off, acceptance from a guardian who can consent, and the child's assent; the
previous active version is then superseded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal import db
from portal.db import utcnow
from portal.feedback.services import check_progress_alert
from portal.models import Case, CaseStatus, User
from portal.models.plans import (
    AssentChoice,
    Benchmark,
    Goal,
    GoalOwner,
    GoalProgress,
    Informant,
    Intervention,
    PlanResponse,
    PlanStatus,
    PlanVersion,
    Problem,
    ProblemDomain,
    ProblemSeverity,
    ProblemStatus,
    ResponseKind,
)
from portal.models.tasks import CaseTask, TaskKind
from portal.stored_words import N_, Words, stored

MIN_GOALS, MAX_GOALS = 2, 4
# The answers to a proposed plan that the therapist must act on become a task in their queue.
_TASK_FOR_ANSWER = {
    ResponseKind.REQUEST_CHANGES: (
        TaskKind.PLAN_CHANGES_REQUESTED,
        N_("%(name)s asks for changes to plan v%(number)s"),
    ),
    ResponseKind.ACCEPT_WITH_COMMENT: (
        TaskKind.PLAN_COMMENT,
        N_("%(name)s accepted plan v%(number)s with a comment"),
    ),
}
ASSENTING = (AssentChoice.YES, AssentChoice.NOT_SURE)


class PlanRuleError(ValueError):
    """The rules refuse this change; the message is shown to the person as it is."""


class EditConflict(Exception):
    """Someone saved this since the editor opened it (RL-03)."""


# --- problem list ----------------------------------------------------------------------------


def ordered_problems(case: Case) -> list[Problem]:
    return list(
        db.session.scalars(
            select(Problem)
            .where(Problem.case_id == case.id)
            .order_by(Problem.priority_rank, Problem.id)
        )
    )


def do_add_problem(
    actor: User,
    case: Case,
    *,
    child_words: str,
    clinical_words: str,
    domain: ProblemDomain,
    reported_by: str,
    severities: dict[Informant, int],
) -> Problem:
    top = db.session.scalar(
        select(func.max(Problem.priority_rank)).where(Problem.case_id == case.id)
    )
    problem = Problem(
        case_id=case.id,
        child_words=child_words.strip(),
        clinical_words=clinical_words.strip(),
        domain=domain,
        reported_by=reported_by.strip(),
        priority_rank=(top or 0) + 1,
        created_by_id=actor.id,
    )
    db.session.add(problem)
    db.session.flush()
    for informant, severity in severities.items():
        do_rate_problem(actor, problem, informant=informant, severity=severity)
    return problem


def do_rate_problem(
    actor: User, problem: Problem, *, informant: Informant, severity: int
) -> ProblemSeverity:
    if not 0 <= severity <= 10:
        raise PlanRuleError(_("Severity is a number from 0 to 10."))
    rating = ProblemSeverity(
        problem_id=problem.id, informant=informant, severity=severity, recorded_by_id=actor.id
    )
    db.session.add(rating)
    db.session.flush()
    return rating


def do_move_problem(actor: User, case: Case, problem: Problem, direction: str) -> None:
    """Swap a problem with its neighbour; ranks are renumbered 1..n so they stay tidy."""
    problems = ordered_problems(case)
    index = next(i for i, p in enumerate(problems) if p.id == problem.id)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(problems):
        problems[index], problems[other] = problems[other], problems[index]
    for rank, item in enumerate(problems, start=1):
        item.priority_rank = rank
    db.session.flush()


def do_set_problem_status(actor: User, problem: Problem, status: ProblemStatus) -> None:
    problem.status = status
    db.session.flush()


# --- tasks -----------------------------------------------------------------------------------


def add_task(
    case: Case, actor: User, kind: TaskKind, summary: Words, detail: str | Words = ""
) -> CaseTask:
    """A task on the caseload. `summary` is stored words, said in the therapist's language when
    read (portal/stored_words.py), whatever language the family member who caused it reads;
    `detail` is what they typed, or stored words when Python explains the task."""
    task = CaseTask(
        case_id=case.id,
        kind=kind,
        summary_words=summary,
        summary=summary.english()[:200],
        detail_words=detail if isinstance(detail, Words) else None,
        detail=detail.english() if isinstance(detail, Words) else detail,
        created_by_id=actor.id,
    )
    db.session.add(task)
    db.session.flush()
    return task


def do_resolve_task(actor: User, task: CaseTask, note: str) -> None:
    if task.resolved_at is None:
        task.resolved_at = utcnow()
        task.resolved_by_id = actor.id
        task.resolution_note = note.strip()
        db.session.flush()


def do_suggest_priorities(actor: User, case: Case, comment: str) -> CaseTask:
    return add_task(
        case,
        actor,
        TaskKind.PRIORITY_SUGGESTION,
        stored(N_("%(name)s suggests a different order of priorities"), name=actor.display_name),
        comment.strip(),
    )


def do_request_review(actor: User, case: Case, reason: str) -> CaseTask:
    return add_task(
        case,
        actor,
        TaskKind.REVIEW_REQUESTED,
        stored(N_("%(name)s asks for a plan review"), name=actor.display_name),
        reason.strip(),
    )


# --- plan versions ---------------------------------------------------------------------------


def versions_of(case: Case) -> list[PlanVersion]:
    return list(
        db.session.scalars(
            select(PlanVersion)
            .where(PlanVersion.case_id == case.id)
            .order_by(PlanVersion.number.desc())
        )
    )


def active_version(case: Case) -> PlanVersion | None:
    return db.session.scalars(
        select(PlanVersion).where(
            PlanVersion.case_id == case.id, PlanVersion.status == PlanStatus.ACTIVE
        )
    ).one_or_none()


def open_version(case: Case) -> PlanVersion | None:
    """The draft or proposal in progress, if any."""
    return db.session.scalars(
        select(PlanVersion).where(
            PlanVersion.case_id == case.id,
            PlanVersion.status.in_([PlanStatus.DRAFT, PlanStatus.PROPOSED]),
        )
    ).one_or_none()


def _copy_into(source: PlanVersion, target: PlanVersion) -> None:
    target.review_interval_days = source.review_interval_days
    for goal in source.goals:
        copy = Goal(
            lineage_key=goal.lineage_key,
            position=goal.position,
            child_text=goal.child_text,
            clinical_text=goal.clinical_text,
            owner=goal.owner,
            problems=list(goal.problems),
        )
        copy.benchmarks = [
            Benchmark(measure=b.measure, target=b.target, due_on=b.due_on) for b in goal.benchmarks
        ]
        target.goals.append(copy)
    for item in source.interventions:
        target.interventions.append(
            Intervention(
                position=item.position, what=item.what, who=item.who, how_often=item.how_often
            )
        )


def do_start_draft(actor: User, case: Case) -> PlanVersion:
    """The open draft, or a new one copied from the proposal being withdrawn or the active plan."""
    current = open_version(case)
    if current is not None and current.status is PlanStatus.DRAFT:
        return current
    base = current or active_version(case)
    if current is not None:  # a proposal never changes: withdraw it and edit a copy
        current.status = PlanStatus.CLOSED
        current.ended_at = utcnow()
        db.session.flush()
    number = (
        db.session.scalar(
            select(func.max(PlanVersion.number)).where(PlanVersion.case_id == case.id)
        )
        or 0
    ) + 1
    draft = PlanVersion(case_id=case.id, number=number, created_by_id=actor.id, change_summary="")
    if base is not None:
        _copy_into(base, draft)
    db.session.add(draft)
    db.session.flush()
    return draft


def _check_editable(plan: PlanVersion, expected_edit_version: int | None) -> None:
    if not plan.is_editable:
        raise PlanRuleError(
            _("This version can no longer change. Start a new draft to edit the plan.")
        )
    if expected_edit_version is not None and plan.edit_version != expected_edit_version:
        raise EditConflict()


def do_save_plan_details(
    actor: User,
    plan: PlanVersion,
    *,
    expected_edit_version: int,
    change_summary: str,
    review_interval_days: int,
) -> None:
    _check_editable(plan, expected_edit_version)
    plan.change_summary = change_summary.strip()
    plan.review_interval_days = review_interval_days
    db.session.flush()


@dataclass
class BenchmarkInput:
    measure: str
    target: str
    due_on: date


@dataclass
class GoalInput:
    child_text: str
    clinical_text: str
    owner: GoalOwner
    problem_ids: list[int] = field(default_factory=list)
    benchmarks: list[BenchmarkInput] = field(default_factory=list)


def _apply_goal(goal: Goal, data: GoalInput, case: Case) -> None:
    goal.child_text = data.child_text.strip()
    goal.clinical_text = data.clinical_text.strip()
    goal.owner = data.owner
    # Only problems of this case can be linked, whatever ids the form carried (AZ-05).
    goal.problems = [p for p in ordered_problems(case) if p.id in set(data.problem_ids)]
    goal.benchmarks = [
        Benchmark(measure=b.measure.strip(), target=b.target.strip(), due_on=b.due_on)
        for b in data.benchmarks
    ]


def do_add_goal(actor: User, plan: PlanVersion, case: Case, data: GoalInput) -> Goal:
    _check_editable(plan, None)
    if len(plan.goals) >= MAX_GOALS:
        raise PlanRuleError(
            _(
                "A plan has at most %(max_goals)s goals. Fewer goals keep focus.",
                max_goals=MAX_GOALS,
            )
        )
    goal = Goal(lineage_key=str(uuid.uuid4()), position=len(plan.goals) + 1)
    _apply_goal(goal, data, case)
    plan.goals.append(goal)
    db.session.flush()
    return goal


def do_save_goal(
    actor: User, goal: Goal, case: Case, data: GoalInput, *, expected_edit_version: int
) -> None:
    _check_editable(goal.plan, None)
    if goal.edit_version != expected_edit_version:
        raise EditConflict()
    _apply_goal(goal, data, case)
    db.session.flush()


def do_remove_goal(actor: User, goal: Goal) -> None:
    plan = goal.plan
    _check_editable(plan, None)
    plan.goals.remove(goal)
    for position, item in enumerate(plan.goals, start=1):
        item.position = position
    db.session.flush()


def do_add_intervention(
    actor: User, plan: PlanVersion, *, what: str, who: str, how_often: str
) -> Intervention:
    _check_editable(plan, None)
    item = Intervention(
        position=len(plan.interventions) + 1,
        what=what.strip(),
        who=who.strip(),
        how_often=how_often.strip(),
    )
    plan.interventions.append(item)
    db.session.flush()
    return item


def do_remove_intervention(actor: User, item: Intervention) -> None:
    plan = item.plan
    _check_editable(plan, None)
    plan.interventions.remove(item)
    db.session.flush()


def proposal_problems(plan: PlanVersion) -> list[str]:
    """What still stops this draft from being proposed, in plain words."""
    problems = []
    if not MIN_GOALS <= len(plan.goals) <= MAX_GOALS:
        problems.append(
            f"A plan needs {MIN_GOALS} to {MAX_GOALS} goals (it has {len(plan.goals)})."
        )
    for goal in plan.goals:
        if not goal.benchmarks:
            problems.append(
                f"Goal {goal.position} needs at least one benchmark (how we will know)."
            )
    if not plan.change_summary.strip():
        problems.append("Write a short summary of what this version changes, for the family.")
    return problems


def do_propose(
    actor: User, plan: PlanVersion, *, expected_edit_version: int, sign_off: bool
) -> None:
    _check_editable(plan, expected_edit_version)
    if missing := proposal_problems(plan):
        raise PlanRuleError(" ".join(missing))
    case = db.session.get(Case, plan.case_id)
    if case is not None and case.status is CaseStatus.PAUSED:
        raise PlanRuleError(
            _(
                "Treatment consent was withdrawn, so the case is paused: no new version can be "
                "proposed to the family until consent is given again."
            )
        )
    plan.status = PlanStatus.PROPOSED
    plan.proposed_at = utcnow()
    if sign_off:
        plan.signed_off_at = plan.proposed_at
        plan.signed_off_by_id = actor.id
    db.session.flush()
    try_activate(plan)


def do_sign_off(actor: User, plan: PlanVersion) -> None:
    if plan.status is not PlanStatus.PROPOSED:
        raise PlanRuleError(_("Only a proposed version can be signed off."))
    if plan.signed_off_at is None:
        plan.signed_off_at = utcnow()
        plan.signed_off_by_id = actor.id
        db.session.flush()
    try_activate(plan)


def _require_proposed(plan: PlanVersion) -> None:
    if plan.status is not PlanStatus.PROPOSED:
        raise PlanRuleError(_("This version is not waiting for an answer any more."))


def do_guardian_response(
    actor: User, plan: PlanVersion, case: Case, *, kind: ResponseKind, comment: str
) -> PlanResponse:
    _require_proposed(plan)
    if kind is ResponseKind.ASSENT:
        raise PlanRuleError(_("Choose accept, accept with a comment, or ask for changes."))
    comment = comment.strip()
    if kind is not ResponseKind.ACCEPT and not comment:
        raise PlanRuleError(_("Please write a few words so the therapist knows what you mean."))
    response = PlanResponse(
        kind=kind,
        responder_id=actor.id,
        comment=comment,
        entered_by_id=actor.id,
    )
    plan.responses.append(response)  # keeps the loaded collection current
    db.session.flush()
    if (task := _TASK_FOR_ANSWER.get(kind)) is not None:
        task_kind, words = task
        summary = stored(words, name=actor.display_name, number=plan.number)
        add_task(case, actor, task_kind, summary, comment)
    try_activate(plan)
    return response


def do_record_assent(
    actor: User, plan: PlanVersion, case: Case, *, choice: AssentChoice, comment: str = ""
) -> PlanResponse:
    """The child's assent: from the child's own account, or entered by a guardian for them."""
    _require_proposed(plan)
    by_child = actor.is_child
    response = PlanResponse(
        kind=ResponseKind.ASSENT,
        responder_id=actor.id if by_child else case.child.user_id,
        assent=choice,
        comment=comment.strip(),
        entered_by_id=actor.id,
        on_behalf_of_child=not by_child,
    )
    plan.responses.append(response)  # keeps the loaded collection current
    db.session.flush()
    if choice is AssentChoice.NO:
        add_task(
            case,
            actor,
            TaskKind.CHILD_NOT_READY,
            stored(
                N_("%(name)s is not ready for plan v%(number)s yet"),
                name=case.child.first_name,
                number=plan.number,
            ),
            comment.strip(),
        )
    try_activate(plan)
    return response


def activation_status(plan: PlanVersion) -> dict[str, bool]:
    """The three things a proposal needs before it becomes the active plan."""
    case = db.session.get(Case, plan.case_id)
    assert case is not None
    now = utcnow()
    consenting = {
        link.guardian_id
        for link in case.guardian_links
        if link.can_consent and link.is_current(now)
    }
    accepted = any(
        r.kind in (ResponseKind.ACCEPT, ResponseKind.ACCEPT_WITH_COMMENT)
        and r.responder_id in consenting
        for r in plan.responses
    )
    assents = [r for r in plan.responses if r.kind is ResponseKind.ASSENT]
    assented = bool(assents) and assents[-1].assent in ASSENTING
    return {
        "signed_off": plan.signed_off_at is not None,
        "guardian_accepted": accepted,
        "child_assented": assented,
    }


def try_activate(plan: PlanVersion) -> bool:
    if plan.status is not PlanStatus.PROPOSED or not all(activation_status(plan).values()):
        return False
    case = db.session.get(Case, plan.case_id)
    assert case is not None
    now = utcnow()
    previous = active_version(case)
    if previous is not None:
        previous.status = PlanStatus.SUPERSEDED
        previous.ended_at = now
        db.session.flush()  # the one-active index must see the old version leave first
    plan.status = PlanStatus.ACTIVE
    plan.activated_at = now
    plan.review_due_on = now.date() + timedelta(days=plan.review_interval_days)
    db.session.flush()
    return True


def do_close_plan(actor: User, plan: PlanVersion) -> None:
    if plan.status is not PlanStatus.ACTIVE:
        raise PlanRuleError(_("Only the active plan can be closed."))
    plan.status = PlanStatus.CLOSED
    plan.ended_at = utcnow()
    db.session.flush()


# --- goal progress ---------------------------------------------------------------------------


def do_rate_goal(
    actor: User, case: Case, goal: Goal, *, value: int, rater_role: Informant
) -> GoalProgress:
    if not 0 <= value <= 10:
        raise PlanRuleError(_("Progress is a number from 0 to 10."))
    rating = GoalProgress(
        case_id=case.id,
        lineage_key=goal.lineage_key,
        rater_role=rater_role,
        rater_id=actor.id if rater_role is not Informant.CHILD or actor.is_child else None,
        entered_by_id=actor.id,
        value=value,
    )
    db.session.add(rating)
    db.session.flush()
    check_progress_alert(rating)
    return rating
