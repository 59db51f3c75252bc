"""Demo clinic, part two: problem lists and treatment plans with history (fictional).

Maya has an active v1; Leo has an active v1 and a proposed v2 waiting for his parents; Sam's plan
was revised twice (v3 active). Safe to run again: it does nothing once Maya has a plan.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import db
from portal.db import utcnow
from portal.demo.people import family, person
from portal.models import Case, User
from portal.models.plans import (
    AssentChoice,
    GoalOwner,
    GoalProgress,
    Informant,
    PlanVersion,
    ProblemDomain,
    ResponseKind,
)
from portal.plans import services


def _goal(
    child: str, clinical: str, owner: GoalOwner, marks: list[tuple[str, str, int]]
) -> services.GoalInput:
    today = utcnow().date()
    return services.GoalInput(
        child_text=child,
        clinical_text=clinical,
        owner=owner,
        benchmarks=[
            services.BenchmarkInput(measure, target, today + timedelta(days=days))
            for measure, target, days in marks
        ],
    )


def _backdate(plan: PlanVersion, days_ago: int) -> None:
    when = utcnow() - timedelta(days=days_ago)
    plan.created_at = when - timedelta(days=3)
    if plan.proposed_at:
        plan.proposed_at = when - timedelta(days=2)
    if plan.signed_off_at:
        plan.signed_off_at = when - timedelta(days=2)
    if plan.activated_at:
        plan.activated_at = when
        plan.review_due_on = when.date() + timedelta(days=plan.review_interval_days)
    for response in plan.responses:
        response.created_at = when - timedelta(days=1)


def _activate(
    therapist: User, case: Case, plan: PlanVersion, guardian: User, assent_by: User
) -> None:
    services.do_propose(therapist, plan, expected_edit_version=plan.edit_version, sign_off=True)
    services.do_guardian_response(guardian, plan, case, kind=ResponseKind.ACCEPT, comment="")
    services.do_record_assent(assent_by, plan, case, choice=AssentChoice.YES)


def _draft(
    therapist: User, case: Case, summary: str, goals: list[services.GoalInput]
) -> PlanVersion:
    draft = services.do_start_draft(therapist, case)
    for goal in list(draft.goals):
        services.do_remove_goal(therapist, goal)
    for goal_input in goals:
        services.do_add_goal(therapist, draft, case, goal_input)
    draft.change_summary = summary
    db.session.flush()
    return draft


def _ratings(
    case: Case, plan: PlanVersion, series: dict[tuple[Informant, User | None], list[int]]
) -> None:
    """Weekly progress ratings for the first goal, oldest first, ending this week."""
    goal = plan.goals[0]
    for (role, rater), values in series.items():
        for weeks_ago, value in zip(range(len(values) - 1, -1, -1), values, strict=True):
            db.session.add(
                GoalProgress(
                    case_id=case.id,
                    lineage_key=goal.lineage_key,
                    rater_role=role,
                    rater_id=rater.id if rater else None,
                    entered_by_id=(rater or person("ana@demo.rapport.test")).id,
                    value=value,
                    rated_at=utcnow() - timedelta(weeks=weeks_ago, days=1),
                )
            )
    db.session.flush()


def _problem(
    therapist: User,
    case: Case,
    child: str,
    clinical: str,
    domain: ProblemDomain,
    reported_by: str,
    severities: dict[Informant, int],
) -> None:
    services.do_add_problem(
        therapist,
        case,
        child_words=child,
        clinical_words=clinical,
        domain=domain,
        reported_by=reported_by,
        severities=severities,
    )


def load_demo_plans() -> bool:
    maya, leo = family("Maya"), family("Leo")
    if db.session.scalars(select(PlanVersion.id).where(PlanVersion.case_id == maya.id)).first():
        return False
    rivera, chen = person("rivera@demo.rapport.test"), person("chen@demo.rapport.test")
    ana, carla, david, erin = (
        person(f"{name}@demo.rapport.test") for name in ("ana", "carla", "david", "erin")
    )
    leo_user = db.session.scalars(select(User).where(User.username == "leo")).one()
    sam_user = db.session.scalars(select(User).where(User.username == "sam")).one()

    # Maya, 6: separation anxiety. Active v1; Ana records Maya's thumbs-up (young child).
    _problem(
        rivera,
        maya,
        "My tummy hurts when Mummy leaves",
        "Separation distress at school drop-off",
        ProblemDomain.SEPARATION,
        "Ana (mother)",
        {Informant.GUARDIAN: 8, Informant.THERAPIST: 7},
    )
    _problem(
        rivera,
        maya,
        "I can't sleep on my own",
        "Requires parent present to fall asleep",
        ProblemDomain.SEPARATION,
        "Ben (father)",
        {Informant.GUARDIAN: 6, Informant.CHILD: 9},
    )
    maya_v1 = _draft(
        rivera,
        maya,
        "Our first plan: brave goodbyes and sleeping in Maya's own bed.",
        [
            _goal(
                "Say bye-bye at school and go in with my teacher",
                "Tolerate separation at school drop-off without prolonged distress",
                GoalOwner.SHARED,
                [("Mornings with a calm goodbye", "4 of 5 school days", 60)],
            ),
            _goal(
                "Fall asleep in my own bed",
                "Sleep onset without parent in room",
                GoalOwner.GUARDIAN,
                [("Nights asleep without a grown-up in the room", "5 nights a week", 75)],
            ),
        ],
    )
    services.do_add_intervention(
        rivera,
        maya_v1,
        what="Brave goodbye practice with a 3-step routine",
        who="Ana or Ben",
        how_often="Every school morning",
    )
    services.do_add_intervention(
        rivera,
        maya_v1,
        what="Parent coaching session",
        who="Dr. Rivera with Ana and Ben",
        how_often="Every two weeks",
    )
    _activate(rivera, maya, maya_v1, ana, ana)
    _backdate(maya_v1, 45)
    _ratings(
        maya,
        maya_v1,
        {
            (Informant.GUARDIAN, ana): [2, 3, 3, 5, 6],
            (Informant.THERAPIST, rivera): [2, 3, 4, 5],
            (Informant.CHILD, None): [3, 5, 8],
        },
    )

    # Leo, 10: fear of dogs. Active v1, proposed v2 waiting for Carla and David.
    _problem(
        rivera,
        leo,
        "Dogs are scary, they might bite me",
        "Specific phobia, animal type (dogs)",
        ProblemDomain.SPECIFIC_PHOBIA,
        "Carla (mother)",
        {Informant.CHILD: 8, Informant.GUARDIAN: 7, Informant.THERAPIST: 7},
    )
    _problem(
        rivera,
        leo,
        "I don't want to go to the park",
        "Avoidance of parks and friends' homes with dogs",
        ProblemDomain.SPECIFIC_PHOBIA,
        "David (father)",
        {Informant.GUARDIAN: 6},
    )
    leo_v1 = _draft(
        rivera,
        leo,
        "Our first plan: getting used to dogs step by step.",
        [
            _goal(
                "Be near a dog without running away",
                "Reduce avoidance of dogs via graded exposure",
                GoalOwner.CHILD,
                [("Highest ladder step mastered", "Step 4 (pat a calm dog)", 70)],
            ),
            _goal(
                "Go to the park with my dad",
                "Resume park visits with father",
                GoalOwner.SHARED,
                [("Park visits a week", "2 visits", 50)],
            ),
        ],
    )
    services.do_add_intervention(
        rivera,
        leo_v1,
        what="Fear ladder practice at home",
        who="Leo with Mum or Dad",
        how_often="4 times a week",
    )
    _activate(rivera, leo, leo_v1, carla, leo_user)
    _backdate(leo_v1, 40)
    _ratings(
        leo,
        leo_v1,
        {
            (Informant.CHILD, leo_user): [2, 3, 5, 6],
            (Informant.GUARDIAN, carla): [3, 4, 5, 6],
            (Informant.GUARDIAN, david): [2, 2, 3, 3],
            (Informant.THERAPIST, rivera): [2, 4, 5],
        },
    )
    leo_v2 = services.do_start_draft(rivera, leo)
    park = leo_v2.goals[1]
    services.do_save_goal(
        rivera,
        park,
        leo,
        _goal(
            "Go to the park and play even if a dog is there",
            "Park visits including tolerating dogs on lead at 10 m",
            GoalOwner.SHARED,
            [
                ("Park visits a week", "2 visits", 50),
                ("Stays when a dog walks past", "3 times", 60),
            ],
        ),
        expected_edit_version=park.edit_version,
    )
    services.do_add_goal(
        rivera,
        leo_v2,
        leo,
        _goal(
            "Visit Grandma, who has a puppy",
            "Visit grandmother's home with puppy present",
            GoalOwner.SHARED,
            [("Visits to Grandma's", "1 visit of an hour", 90)],
        ),
    )
    leo_v2.change_summary = (
        "Leo is doing well with dogs on a lead. We make the park goal bigger and add visiting "
        "Grandma and her new puppy."
    )
    services.do_propose(rivera, leo_v2, expected_edit_version=leo_v2.edit_version, sign_off=True)

    # Sam, 14: social anxiety. Revised twice; v3 active.
    sam = family("Sam")
    _problem(
        chen,
        sam,
        "I freeze when I have to talk in class",
        "Performance anxiety, oral participation",
        ProblemDomain.SOCIAL,
        "Sam",
        {Informant.CHILD: 8, Informant.GUARDIAN: 6},
    )
    _problem(
        chen,
        sam,
        "Lunch in the cafeteria is the worst",
        "Avoidance of unstructured peer settings",
        ProblemDomain.SOCIAL,
        "Erin (mother)",
        {Informant.CHILD: 7, Informant.GUARDIAN: 7},
    )
    sam_v1 = _draft(
        chen,
        sam,
        "First plan: speaking up in class.",
        [
            _goal(
                "Answer one question in class a week",
                "Increase oral participation in class",
                GoalOwner.CHILD,
                [("Questions answered", "1 a week", 30)],
            ),
            _goal(
                "Stay in the cafeteria for lunch",
                "Reduce avoidance of cafeteria",
                GoalOwner.CHILD,
                [("Lunches in the cafeteria", "2 a week", 45)],
            ),
        ],
    )
    _activate(chen, sam, sam_v1, erin, sam_user)
    _backdate(sam_v1, 120)
    sam_v2 = _draft(
        chen,
        sam,
        "Sam met the class goal; we raise it and add a lunch buddy.",
        [
            _goal(
                "Answer two questions in class a week",
                "Increase oral participation in class",
                GoalOwner.CHILD,
                [("Questions answered", "2 a week", 40)],
            ),
            _goal(
                "Eat lunch with a friend in the cafeteria",
                "Reduce avoidance of cafeteria with peer",
                GoalOwner.CHILD,
                [("Lunches in the cafeteria", "3 a week", 45)],
            ),
        ],
    )
    sam_v2.goals[0].lineage_key = sam_v1.goals[0].lineage_key
    sam_v2.goals[1].lineage_key = sam_v1.goals[1].lineage_key
    _activate(chen, sam, sam_v2, erin, sam_user)
    _backdate(sam_v2, 70)
    sam_v3 = services.do_start_draft(chen, sam)
    services.do_add_goal(
        chen,
        sam_v3,
        sam,
        _goal(
            "Join one club or team after school",
            "Structured peer activity weekly",
            GoalOwner.CHILD,
            [("Club meetings attended", "3 in a row", 60)],
        ),
    )
    sam_v3.change_summary = "We add joining a club, which Sam chose."
    _activate(chen, sam, sam_v3, erin, sam_user)
    _backdate(sam_v3, 20)
    _ratings(
        sam,
        sam_v3,
        {
            (Informant.CHILD, sam_user): [4, 5, 5, 6],
            (Informant.GUARDIAN, erin): [5, 6, 7, 8],
            (Informant.THERAPIST, chen): [5, 6, 6],
        },
    )
    services.do_request_review(
        erin, sam, "Sam wants to talk about the club goal: the chess club meets at a bad time."
    )
    db.session.flush()
    return True
