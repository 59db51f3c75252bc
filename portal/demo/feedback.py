"""Demo clinic, part three: weeks of sessions, feedback and check-ins for every family (fictional).

Includes one rupture: Leo's session two weeks ago was missed without notice; at the next session
David's ratings dropped sharply, which raised alerts on Dr. Rivera's caseload, and she answered him.
Safe to run again: it does nothing once sessions exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import select

from portal import db
from portal.db import utcnow
from portal.demo.people import family, person
from portal.feedback import services
from portal.models import Case, User
from portal.models.feedback import (
    CareAlert,
    SessionFeedback,
    SessionMode,
    SessionStatus,
    TherapySession,
)

WEEKS = 6


def _session_time(weeks_ago: int, hour_utc: int) -> datetime:
    """The weekly session `weeks_ago` weeks back (-1: the next one): two days before the last
    `hour_utc` o'clock that has passed, so the latest held session is always 48-72 hours ago,
    whatever the hour the demo is loaded (Leo's last practice, a day ago, comes after it)."""
    now = utcnow()
    day = now.replace(hour=hour_utc, minute=0, second=0, microsecond=0)
    if day > now:
        day -= timedelta(days=1)
    return day - timedelta(days=7 * weeks_ago + 2)


def _sessions(
    therapist: User,
    case: Case,
    hour: int,
    missed: set[int],
    came: Callable[[int], list[Any]],
) -> dict[int, TherapySession]:
    """Weekly sessions; `came(weeks_ago)` names who attended each held one (a guardian, or the
    case for the child)."""
    made = {}
    for weeks_ago in range(WEEKS, 0, -1):
        status = SessionStatus.MISSED if weeks_ago in missed else SessionStatus.HELD
        mode = SessionMode.VIDEO if weeks_ago % 3 == 0 else SessionMode.IN_PERSON
        attendance = {
            services.child_key(case)
            if isinstance(person, Case)
            else services.guardian_key(person.id): mode
            for person in came(weeks_ago)
        }
        made[weeks_ago] = services.do_record_session(
            therapist,
            case,
            starts_at=_session_time(weeks_ago, hour),
            mode=mode,
            status=status,
            attendance=attendance if status is SessionStatus.HELD else {},
        )
    services.do_record_session(
        therapist,
        case,
        starts_at=_session_time(-1, hour),
        mode=SessionMode.IN_PERSON,
        status=SessionStatus.SCHEDULED,
    )
    return made


def _guardian_feedback(
    guardian: User,
    case: Case,
    session: TherapySession,
    values: tuple[int, int, int, int],
    comment: str = "",
) -> SessionFeedback:
    heard, matters, approach, overall = values
    feedback = services.do_submit_guardian_feedback(
        guardian,
        case,
        session,
        heard=heard,
        matters=matters,
        approach=approach,
        overall=overall,
        comment=comment,
        idempotency_key=str(uuid.uuid4()),
    )
    feedback.created_at = session.starts_at + timedelta(hours=3)
    return feedback


def _child_feedback(actor: User, case: Case, session: TherapySession, raw: int) -> None:
    feedback = services.do_submit_child_feedback(
        actor, case, session, raw=raw, comment="", idempotency_key=str(uuid.uuid4())
    )
    feedback.created_at = session.starts_at + timedelta(hours=1)


def _checkins(
    guardian: User,
    case: Case,
    weeks: list[tuple[int, int, str, str, str]],
    *,
    weeks_before_due: int = 0,
) -> None:
    due = services.checkin_week_due() - timedelta(days=7 * weeks_before_due)
    for index, (days, hard, spared, reducing, noticed) in enumerate(weeks):
        week = due - timedelta(days=7 * (len(weeks) - 1 - index))
        checkin = services.do_submit_checkin(
            guardian,
            case,
            services.CheckinInput(week, days, hard, spared, reducing, noticed),
            idempotency_key=str(uuid.uuid4()),
        )
        checkin.created_at = datetime.combine(
            week + timedelta(days=7), datetime.min.time(), tzinfo=utcnow().tzinfo
        )


def load_demo_feedback() -> bool:
    if db.session.scalars(select(TherapySession.id)).first() is not None:
        return False
    rivera, chen = person("rivera@demo.rapport.test"), person("chen@demo.rapport.test")
    ana, ben, carla, david, erin = (
        person(f"{n}@demo.rapport.test") for n in ("ana", "ben", "carla", "david", "erin")
    )
    leo_user = db.session.scalars(select(User).where(User.username == "leo")).one()
    sam_user = db.session.scalars(select(User).where(User.username == "sam")).one()
    maya, leo, sam = family("Maya"), family("Leo"), family("Sam")

    # Maya: steady, warm feedback from Ana and Ben; Maya's faces recorded in child mode by Ana.
    maya_sessions = _sessions(
        rivera,
        maya,
        21,
        missed=set(),
        came=lambda weeks_ago: [ana, maya] + ([ben] if weeks_ago % 2 == 0 else []),
    )
    for weeks_ago, session in maya_sessions.items():
        _guardian_feedback(ana, maya, session, (8, 8, 7, 8) if weeks_ago > 3 else (9, 9, 8, 9))
        if weeks_ago % 2 == 0:
            _guardian_feedback(ben, maya, session, (7, 8, 7, 7))
        _child_feedback(ana, maya, session, 3 if weeks_ago < 4 else 2)
    _checkins(
        ana,
        maya,
        [
            (
                3,
                7,
                "Stayed in the classroom for ten minutes at drop-off",
                "Staying in the classroom",
                "Cried at the gate twice",
            ),
            (
                4,
                6,
                "Stayed until Maya found her friend",
                "Staying in the classroom",
                "Went in with the teacher on Thursday",
            ),
            (
                5,
                5,
                "Waited at the gate",
                "Waiting at the gate",
                "Waved goodbye by herself on Friday",
            ),
            (
                5,
                4,
                "Short goodbye, then left",
                "Lying down with her at bedtime",
                "Slept alone two nights",
            ),
        ],
    )

    # Leo: session 2 weeks ago missed without notice; David's ratings drop sharply after it.
    leo_sessions = _sessions(rivera, leo, 22, missed={2}, came=lambda _: [carla, david, leo])
    for weeks_ago in (6, 5, 4, 3):
        _guardian_feedback(carla, leo, leo_sessions[weeks_ago], (8, 8, 8, 8))
        _guardian_feedback(david, leo, leo_sessions[weeks_ago], (8, 7, 8, 8))
        _child_feedback(leo_user, leo, leo_sessions[weeks_ago], 4)
    _guardian_feedback(carla, leo, leo_sessions[1], (7, 8, 7, 7))
    rupture = _guardian_feedback(
        david,
        leo,
        leo_sessions[1],
        (3, 5, 4, 3),
        "We drove over for the session two weeks ago and nobody was there, and nobody called. "
        "Leo was really let down. I'm not sure this is working.",
    )
    services.do_answer_feedback(
        rivera,
        rupture,
        "You are right, and I am sorry. The session was moved in our system and the message "
        "never reached you. From now on every change is confirmed by a message to both homes, "
        "and I have kept Thursday 5 pm free for a catch-up with you and Leo.",
    )
    rupture.answered_at = rupture.created_at + timedelta(hours=20)
    _child_feedback(leo_user, leo, leo_sessions[1], 3)
    # The catch-up Dr. Rivera offered, held two days ago: Carla answered, David's check-in waits.
    catch_up = services.do_record_session(
        rivera,
        leo,
        starts_at=_session_time(0, 22),
        mode=SessionMode.IN_PERSON,
        status=SessionStatus.HELD,
        attendance={
            services.child_key(leo): SessionMode.IN_PERSON,
            services.guardian_key(carla.id): SessionMode.IN_PERSON,
            services.guardian_key(david.id): SessionMode.IN_PERSON,
        },
    )
    _guardian_feedback(carla, leo, catch_up, (8, 8, 8, 8))
    for alert in db.session.scalars(
        select(CareAlert).where(CareAlert.case_id == leo.id, CareAlert.resolved_at.is_(None))
    ):
        services.do_resolve_alert(
            rivera,
            alert,
            "Phoned both homes: Leo was upset about the missed week. "
            "He chooses the first step at the next session.",
        )
    _checkins(
        carla,
        leo,
        [
            (
                4,
                5,
                "Crossed the street when we saw a dog",
                "Crossing the street",
                "Looked at puppies on video",
            ),
            (
                4,
                5,
                "Carried him past the neighbour's dog",
                "Crossing the street",
                "Stood at the fence for a minute",
            ),
            (
                3,
                4,
                "Asked the neighbour to hold the dog",
                "Crossing the street",
                "Said hello to a dog on a lead",
            ),
        ],
    )
    _checkins(
        david,
        leo,
        [
            (2, 6, "Skipped the park", "Skipping the park", "Watched dogs from the car"),
            (
                1,
                7,
                "Skipped the park again",
                "Skipping the park",
                "Hard week at work, little practice",
            ),
        ],
    )

    # Sam: teen check-ins on 0-10; Erin's weekly check-ins.
    sam_sessions = _sessions(chen, sam, 23, missed=set(), came=lambda _: [erin, sam])
    for weeks_ago, session in sam_sessions.items():
        _guardian_feedback(erin, sam, session, (7, 8, 8, 8))
        _child_feedback(sam_user, sam, session, 6 if weeks_ago > 2 else 7)
    _checkins(
        erin,
        sam,
        [
            (
                3,
                4,
                "Ordered food for Sam at restaurants",
                "Ordering for Sam",
                "Asked a question in class",
            ),
            (
                4,
                3,
                "Called the school for Sam",
                "Ordering for Sam",
                "Ate lunch with a friend twice",
            ),
        ],
        weeks_before_due=1,  # last week's check-in is still waiting for Erin
    )
    for case, therapist in ((maya, rivera), (leo, rivera), (sam, chen)):
        _read_before_the_next_session(case, therapist)
    db.session.flush()
    return True


def _read_before_the_next_session(case: Case, therapist: User) -> None:
    """The therapist read each family's answers about a session before the next session (as the
    before-the-session page has them do): the families see "Read by ..." on those, and "Sent; not
    read yet" only on what came in since the latest session, which nobody has opened (issue 13:
    each status is a recorded fact, in the demo as in use)."""
    held = db.session.scalars(
        select(TherapySession)
        .where(TherapySession.case_id == case.id, TherapySession.status == SessionStatus.HELD)
        .order_by(TherapySession.starts_at)
    ).all()
    for earlier, later in pairwise(held):
        for feedback in earlier.feedback:
            if feedback.respondent_key.startswith("guardian:") and feedback.read_at is None:
                # The morning after it came in (and before any written answer).
                feedback.read_at = min(
                    feedback.created_at + timedelta(hours=18), later.starts_at - timedelta(hours=2)
                )
                feedback.read_by_id = therapist.id
