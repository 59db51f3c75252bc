"""Demo clinic, part five: eight more of Dr. Rivera's families (fictional), so her caseload shows a
real triage order, one family for each kind of urgency (issue 14):

- Ivy Brennan: her mother Nora rated the last session low, a sharp drop from last time (rupture);
- Rosa Lindqvist: her father Erik withdrew treatment consent, so the case is paused;
- Theo Nakamura: his father's message has waited past the reply time;
- Amira Sayed: plan version 1 is proposed and waits for Dr. Rivera's sign-off;
- Jonah Reyes: his mother asked for a change to the plan (family request);
- Noah Adler: his mother sent a "How is it going?" note that waits for an answer;
- Elsie Moore: the plan review was due two weeks ago;
- Felix Adeyemi: no practice for nine days.

It also writes Dr. Rivera's agenda for Leo's next session, on his "before the session" page, and
her reading of his latest practice entry (the feared outcome did not happen).

These families have no published sign-ins; the README's demo people are unchanged. Safe to run
again: it does nothing once Ivy's case exists.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from portal import db
from portal.cases.services import do_record_consent
from portal.db import utcnow
from portal.demo.feedback import _guardian_feedback
from portal.demo.ladders import _ladder, _practise, _rated
from portal.demo.plans import _activate, _backdate, _draft, _goal
from portal.feedback import services as feedback
from portal.models import (
    Case,
    CaseStatus,
    CaseTherapist,
    Child,
    ConsentAction,
    ConsentKind,
    ConsentMethod,
    FearScale,
    GuardianLink,
    Role,
    User,
)
from portal.models.feedback import NoteMood, SessionMode, SessionStatus
from portal.models.messages import ThreadKind
from portal.models.plans import GoalOwner, PlanVersion


def _family(
    rivera: User, child: tuple[str, str, int, str], guardian: tuple[str, str, str]
) -> tuple[Case, User]:
    """A case opened two months ago with one guardian who consented through the portal."""
    from portal.demo import _adult

    first, last, age, concern = child
    email, name, relation = guardian
    today = utcnow().date()
    kid = Child(
        clinic_id=rivera.clinic_id,
        first_name=first,
        last_name=last,
        date_of_birth=date(today.year - age, 3, 14),
        created_by_id=rivera.id,
    )
    case = Case(
        clinic_id=rivera.clinic_id,
        child=kid,
        status=CaseStatus.ACTIVE,
        presenting_concern=concern,
        opened_by_id=rivera.id,
        opened_at=utcnow() - timedelta(days=60),
    )
    assert rivera.password_hash is not None  # the demo password's hash, shared by the demo
    parent = _adult(Role.GUARDIAN, email, name, None, rivera.password_hash)
    db.session.add_all([kid, case])
    db.session.flush()
    db.session.add_all(
        [
            CaseTherapist(
                case_id=case.id, therapist_id=rivera.id, is_primary=True, added_by_id=rivera.id
            ),
            GuardianLink(
                case_id=case.id,
                guardian_id=parent.id,
                relationship_label=relation,
                household="Home",
                created_by_id=rivera.id,
                valid_from=utcnow() - timedelta(days=59),
            ),
        ]
    )
    db.session.flush()
    db.session.refresh(case)
    for kind in (
        ConsentKind.TREATMENT,
        ConsentKind.PORTAL_TERMS,
        ConsentKind.MESSAGING_POLICY,
        ConsentKind.PARENTAL_CONSENT_UNDER_13,
    ):
        do_record_consent(parent, case, given_by=parent, kind=kind, method=ConsentMethod.PORTAL)
    return case, parent


def _plan(rivera: User, case: Case, child_goal: str, clinical: str) -> PlanVersion:
    return _draft(
        rivera,
        case,
        "Our first plan together, agreed with the family at intake.",
        [
            _goal(child_goal, clinical, GoalOwner.SHARED, [("Ladder steps done", "4 of 6", 60)]),
            _goal(
                "My family helps me be brave",
                "Reduce family accommodation by one habit at a time",
                GoalOwner.GUARDIAN,
                [("Accommodations reduced", "2 of 4", 75)],
            ),
        ],
    )


def _active_plan(rivera: User, case: Case, parent: User, *, days_ago: int) -> PlanVersion:
    plan = _plan(rivera, case, "I can do brave things", "Graded exposure, parent coaching")
    _activate(rivera, case, plan, parent, parent)
    _backdate(plan, days_ago)
    return plan


def _ivy_rupture(rivera: User) -> None:
    ivy, nora = _family(
        rivera,
        ("Ivy", "Brennan", 9, "Fear of the dark"),
        ("nora@demo.rapport.test", "Nora Brennan", "Mother"),
    )
    came = {feedback.guardian_key(nora.id): SessionMode.IN_PERSON}
    for days_ago, ratings, comment in (
        (9, (8, 8, 8, 8), ""),
        (
            2,
            (3, 6, 5, 3),
            "We ran out of time again and I never got to ask about bedtime. "
            "I left feeling nobody heard what our nights are like.",
        ),
    ):
        session = feedback.do_record_session(
            rivera,
            ivy,
            starts_at=utcnow().replace(hour=21, minute=0, second=0, microsecond=0)
            - timedelta(days=days_ago),
            mode=SessionMode.IN_PERSON,
            status=SessionStatus.HELD,
            attendance=came,
        )
        _guardian_feedback(nora, ivy, session, ratings, comment)


def _theo_waiting_reply(rivera: User) -> None:
    from portal.messages import services as messaging

    theo, ken = _family(
        rivera,
        ("Theo", "Nakamura", 12, "Worry about school"),
        ("ken@demo.rapport.test", "Ken Nakamura", "Father"),
    )
    thread = messaging.do_open_thread(rivera, theo, ThreadKind.FAMILY)
    messaging.do_send_message(
        ken,
        thread,
        theo,
        body="Theo stayed home twice this week with a stomach ache before school. "
        "Should we keep him home when that happens, or send him anyway?",
        idempotency_key=str(uuid.uuid4()),
        now=(utcnow() - timedelta(days=5))
        .replace(second=0, microsecond=0)
        .astimezone(ZoneInfo("UTC")),
    )


def _amira_waiting_sign_off(rivera: User) -> None:
    from portal.plans import services as plans

    amira, _layla = _family(
        rivera,
        ("Amira", "Sayed", 7, "Speaking at school (selective mutism)"),
        ("layla@demo.rapport.test", "Layla Sayed", "Mother"),
    )
    plan = _plan(rivera, amira, "I can say hello at school", "Stimulus fading at school")
    plans.do_propose(rivera, plan, expected_edit_version=plan.edit_version, sign_off=False)


def _jonah_request(rivera: User) -> None:
    from portal.plans import services as plans

    jonah, maria = _family(
        rivera,
        ("Jonah", "Reyes", 11, "Panic in crowds"),
        ("maria@demo.rapport.test", "Maria Reyes", "Mother"),
    )
    _active_plan(rivera, jonah, maria, days_ago=20)
    plans.do_suggest_priorities(
        maria,
        jonah,
        "Could the school assembly be one of the steps? The assembly on Fridays is the hardest "
        "moment of Jonah's week.",
    )


def _elsie_review_overdue(rivera: User) -> None:
    elsie, owen = _family(
        rivera,
        ("Elsie", "Moore", 8, "Fear of being sick"),
        ("owen@demo.rapport.test", "Owen Moore", "Father"),
    )
    _active_plan(rivera, elsie, owen, days_ago=104)  # review due 90 days after activation


def _felix_no_practice(rivera: User) -> None:
    felix, tomi = _family(
        rivera,
        ("Felix", "Adeyemi", 10, "Fear of storms"),
        ("tomi@demo.rapport.test", "Tomi Adeyemi", "Mother"),
    )
    _active_plan(rivera, felix, tomi, days_ago=40)
    _ladder_made, steps = _ladder(
        rivera,
        felix,
        0,
        "Storms",
        [
            ("Watch a storm video", "video", 3.0, "Watch a short storm video with Mum."),
            ("Listen to thunder", "dark-room", 4.5, "Play thunder sounds in the living room."),
        ],
    )
    _practise(
        felix,
        steps,
        [_rated(15, 0, 5, 6, 3), _rated(12, 0, 4, 4, 2), _rated(9, 0, 4, 5, 2)],
        actor=tomi,
        scale=FearScale.THERMOMETER_10,
        on_behalf=True,
    )


def _rosa_consent_withdrawn(rivera: User) -> None:
    rosa, erik = _family(
        rivera,
        ("Rosa", "Lindqvist", 9, "Worry when apart from her parents"),
        ("erik@demo.rapport.test", "Erik Lindqvist", "Father"),
    )
    _active_plan(rivera, rosa, erik, days_ago=30)
    do_record_consent(
        erik,
        rosa,
        given_by=erik,
        kind=ConsentKind.TREATMENT,
        method=ConsentMethod.PORTAL,
        action=ConsentAction.REVOKED,
    )


def _noah_family_note(rivera: User) -> None:
    from portal.feedback.notes import do_send_note

    noah, grace = _family(
        rivera,
        ("Noah", "Adler", 8, "Fear of water"),
        ("grace@demo.rapport.test", "Grace Adler", "Mother"),
    )
    _active_plan(rivera, noah, grace, days_ago=25)
    note = do_send_note(
        grace,
        noah,
        mood=NoteMood.HARD,
        text="Noah cried in the car before his swimming lesson on Saturday and we went home. "
        "Was that the right thing to do?",
        idempotency_key=str(uuid.uuid4()),
    )
    note.created_at = utcnow() - timedelta(days=1, hours=3)


def _leo_before_session(rivera: User) -> None:
    """Dr. Rivera's agenda for Leo's next session, and her reading of his latest practice entry:
    he feared the dog would jump at him, and it just looked at him and walked on."""
    from portal.feedback.before_session import do_judge_prediction, do_save_agenda
    from portal.models.ladders import PracticeAttempt

    leo = db.session.scalars(
        select(Case).join(Child, Case.child_id == Child.id).where(Child.first_name == "Leo")
    ).one()
    latest = db.session.scalars(
        select(PracticeAttempt)
        .where(PracticeAttempt.case_id == leo.id, PracticeAttempt.prediction != "")
        .order_by(PracticeAttempt.practiced_at.desc())
        .limit(1)
    ).one()
    do_judge_prediction(rivera, latest, False)
    do_save_agenda(
        rivera,
        leo,
        "1. Leo chooses the first step. 2. Ask David how the weeks at Dad's house went. "
        "3. Plan version 2: what is still unclear for Carla and David?",
    )


def load_demo_caseload() -> bool:
    if db.session.scalars(select(Child.id).where(Child.first_name == "Ivy")).first():
        return False
    rivera = db.session.scalars(select(User).where(User.email == "rivera@demo.rapport.test")).one()
    printing = current_app.config.get("PRINT_OUTBOX")
    current_app.config["PRINT_OUTBOX"] = False  # history, not news: nobody is emailed about it
    try:
        _theo_waiting_reply(rivera)
        _amira_waiting_sign_off(rivera)
        _jonah_request(rivera)
        _elsie_review_overdue(rivera)
        _felix_no_practice(rivera)
        _ivy_rupture(rivera)
        _rosa_consent_withdrawn(rivera)
        _noah_family_note(rivera)
        _leo_before_session(rivera)
    finally:
        current_app.config["PRINT_OUTBOX"] = printing
    db.session.flush()
    return True
