"""Build plans for tests through the real services."""

from __future__ import annotations

from datetime import date, timedelta

from portal.models import Case, User
from portal.models.plans import GoalOwner, Informant, PlanVersion, ProblemDomain
from portal.plans import services


def a_goal(
    text: str, measure: str = "Brave steps done", target: str = "3 steps"
) -> services.GoalInput:
    return services.GoalInput(
        child_text=text,
        clinical_text=f"Clinical: {text}",
        owner=GoalOwner.SHARED,
        benchmarks=[services.BenchmarkInput(measure, target, date.today() + timedelta(days=60))],
    )


def proposed_plan(therapist: User, case: Case, *, sign_off: bool = True) -> PlanVersion:
    services.do_add_problem(
        therapist,
        case,
        child_words="I get scared when Mum leaves",
        clinical_words="Separation distress at drop-off",
        domain=ProblemDomain.SEPARATION,
        reported_by="Mother",
        severities={Informant.GUARDIAN: 7},
    )
    draft = services.do_start_draft(therapist, case)
    services.do_add_goal(therapist, draft, case, a_goal("Say goodbye at school with a smile"))
    services.do_add_goal(therapist, draft, case, a_goal("Sleep in my own bed"))
    services.do_save_plan_details(
        therapist,
        draft,
        expected_edit_version=draft.edit_version,
        change_summary="Our first plan together.",
        review_interval_days=90,
    )
    services.do_propose(
        therapist, draft, expected_edit_version=draft.edit_version, sign_off=sign_off
    )
    return draft
