"""Feedback rules without HTTP: alert thresholds, one answer per person per session, bad input."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.feedback import services
from portal.models import Case, User
from portal.models.feedback import (
    AlertKind,
    CareAlert,
    Respondent,
    SessionFeedback,
    SessionMode,
    SessionStatus,
    TherapySession,
    WeeklyCheckin,
)
from portal.models.plans import Informant
from portal.plans import services as plans
from portal.stored_words import N_, day, stored
from tests.support.builders import proposed_plan
from tests.support.rows import World


def _session(
    world: World,
    days_ago: int = 1,
    status: SessionStatus = SessionStatus.HELD,
    came: list[str] | None = None,
) -> TherapySession:
    """A session of case1; by default Gwen and Cody came (Gwen joined the care team before it)."""
    starts_at = utcnow() - timedelta(days=days_ago)
    world.link1.valid_from = min(world.link1.valid_from, starts_at - timedelta(days=1))
    if came is None:
        came = [services.guardian_key(world.g1.id), services.child_key(world.case1)]
    return services.do_record_session(
        world.t1,
        world.case1,
        starts_at=starts_at,
        mode=SessionMode.IN_PERSON,
        status=status,
        attendance={key: SessionMode.IN_PERSON for key in came}
        if status is SessionStatus.HELD
        else {},
    )


def _rate(
    world: World, session: TherapySession, overall: int, heard: int = 8, by: User | None = None
):  # type: ignore[no-untyped-def]
    return services.do_submit_guardian_feedback(
        by or world.g1,
        world.case1,
        session,
        heard=heard,
        matters=8,
        approach=8,
        overall=overall,
        comment="",
        idempotency_key=str(uuid.uuid4()),
    )


def _alerts(db: Session, case: Case) -> list[tuple[AlertKind, str]]:
    return [
        (a.kind, a.summary)
        for a in db.scalars(
            select(CareAlert).where(CareAlert.case_id == case.id).order_by(CareAlert.id)
        )
    ]


@pytest.mark.parametrize(("overall", "alerted"), [(3, True), (4, False), (0, True)])
def test_a_rating_in_the_bottom_third_raises_an_alert(
    in_app: Session, world: World, overall: int, alerted: bool
) -> None:
    _rate(world, _session(world), overall)
    kinds = [kind for kind, _ in _alerts(in_app, world.case1)]
    assert (AlertKind.LOW_RATING in kinds) is alerted


@pytest.mark.parametrize(
    ("before", "after", "alerted"), [(8, 6, True), (8, 7, False), (6, 9, False)]
)
def test_a_drop_of_two_points_from_last_time_raises_an_alert(
    in_app: Session, world: World, before: int, after: int, alerted: bool
) -> None:
    _rate(world, _session(world, 8), before)
    _rate(world, _session(world, 1), after)
    kinds = [kind for kind, _ in _alerts(in_app, world.case1)]
    assert (AlertKind.RATING_DROP in kinds) is alerted


def test_one_answer_per_person_per_session_and_a_double_submit_stores_one_row(
    in_app: Session, world: World
) -> None:
    session = _session(world)
    key = str(uuid.uuid4())
    first = services.do_submit_guardian_feedback(
        world.g1,
        world.case1,
        session,
        heard=7,
        matters=7,
        approach=7,
        overall=7,
        comment="",
        idempotency_key=key,
    )
    again = services.do_submit_guardian_feedback(
        world.g1,
        world.case1,
        session,
        heard=7,
        matters=7,
        approach=7,
        overall=7,
        comment="",
        idempotency_key=key,
    )
    assert again.id == first.id
    with pytest.raises(services.AlreadyAnswered):
        _rate(world, session, 9)
    stored = in_app.scalars(select(SessionFeedback).where(SessionFeedback.session_id == session.id))
    assert len(stored.all()) == 1


def test_no_feedback_for_a_session_that_did_not_happen(in_app: Session, world: World) -> None:
    missed = _session(world, status=SessionStatus.MISSED)
    with pytest.raises(services.FeedbackRuleError, match="marked missed"):
        _rate(world, missed, 8)
    planned = _session(world, days_ago=-3, status=SessionStatus.SCHEDULED)
    with pytest.raises(services.FeedbackRuleError):
        _rate(world, planned, 8)


def test_out_of_range_ratings_are_refused(in_app: Session, world: World) -> None:
    with pytest.raises(services.FeedbackRuleError, match="0 to 10"):
        _rate(world, _session(world), 11)


def test_the_childs_faces_are_kept_as_given_and_as_0_to_10(in_app: Session, world: World) -> None:
    feedback = services.do_submit_child_feedback(
        world.c1, world.case1, _session(world), raw=1, comment="", idempotency_key=str(uuid.uuid4())
    )
    assert (feedback.child_scale.value, feedback.child_raw, feedback.overall) == ("faces5", 1, 0)  # type: ignore[union-attr]
    assert [k for k, _ in _alerts(in_app, world.case1)] == [AlertKind.LOW_RATING]
    with pytest.raises(services.FeedbackRuleError, match="faces"):
        services.do_submit_child_feedback(
            world.c1,
            world.case1,
            _session(world, 2),
            raw=7,
            comment="",
            idempotency_key=str(uuid.uuid4()),
        )


@pytest.mark.parametrize(
    ("values", "alerted"),
    [((5, 5, 5), True), ((5, 6, 5), True), ((4, 5, 6), False), ((6, 5, 4), False)],
)
def test_goal_progress_flat_across_three_ratings_raises_an_alert(
    in_app: Session, world: World, values: tuple[int, int, int], alerted: bool
) -> None:
    plan = proposed_plan(world.t1, world.case1)
    goal = plan.goals[0]
    for value in values:
        plans.do_rate_goal(world.g1, world.case1, goal, value=value, rater_role=Informant.GUARDIAN)
    kinds = [kind for kind, _ in _alerts(in_app, world.case1)]
    assert (AlertKind.FLAT_PROGRESS in kinds) is alerted


def test_a_weekly_checkin_overdue_raises_one_alert_per_guardian_and_week(
    in_app: Session, world: World
) -> None:
    world.link1.valid_from = utcnow() - timedelta(days=60)
    in_app.flush()
    due = services.checkin_week_due()
    on_tuesday = due + timedelta(days=8)
    with time_machine.travel(on_tuesday.isoformat() + "T12:00:00+00:00", tick=False):
        services.scan_case(world.case1, utcnow())
        assert _alerts(in_app, world.case1) == []  # answers are open until Wednesday
    on_thursday = due + timedelta(days=10)
    with time_machine.travel(on_thursday.isoformat() + "T12:00:00+00:00", tick=False):
        services.scan_case(world.case1, utcnow())
        services.scan_case(world.case1, utcnow())
        alerts = _alerts(in_app, world.case1)
    assert [kind for kind, _ in alerts] == [AlertKind.CHECKIN_OVERDUE]
    assert "Gwen One" in alerts[0][1]


def test_a_checkin_is_one_per_guardian_and_week(in_app: Session, world: World) -> None:
    week = services.checkin_week_due()
    data = services.CheckinInput(week, 4, 5, "Stayed close", "Staying close", "")
    services.do_submit_checkin(world.g1, world.case1, data, idempotency_key=str(uuid.uuid4()))
    with pytest.raises(services.AlreadyAnswered):
        services.do_submit_checkin(world.g1, world.case1, data, idempotency_key=str(uuid.uuid4()))
    with pytest.raises(services.FeedbackRuleError, match="0 to 7"):
        services.do_submit_checkin(
            world.g1,
            world.case1,
            services.CheckinInput(week - timedelta(days=7), 9, 5, "", "", ""),
            idempotency_key=str(uuid.uuid4()),
        )
    assert len(in_app.scalars(select(WeeklyCheckin)).all()) == 1


def test_reminders_carry_no_clinical_content_and_are_queued_once(
    in_app: Session, world: World
) -> None:
    from portal.models import OutboxEmail

    _session(world)
    services.queue_reminders(world.case1, utcnow())
    services.queue_reminders(world.case1, utcnow())
    mails = in_app.scalars(
        select(OutboxEmail).where(OutboxEmail.to_address == "g1@family.test")
    ).all()
    assert len(mails) == 1 + (
        1 if world.link1.valid_from.date() <= services.checkin_week_due() else 0
    )
    for mail in mails:
        assert "Cody" not in mail.body and "SENTINEL" not in mail.body
        assert mail.subject == "A short check-in is waiting in Rapport"


def test_no_practice_for_seven_days_raises_one_alert_per_gap(in_app: Session, world: World) -> None:
    from tests.support.builders import a_ladder, practice

    _, steps = a_ladder(world.t1, world.case1)
    practice(world.c1, world.case1, steps[0], peak=5, when=utcnow() - timedelta(days=6))
    services.scan_case(world.case1, utcnow())
    assert _alerts(in_app, world.case1) == []  # six days is not yet a gap
    later = utcnow() + timedelta(days=2)
    services.scan_case(world.case1, later)
    services.scan_case(world.case1, later + timedelta(hours=5))
    alerts = _alerts(in_app, world.case1)
    assert [kind for kind, _ in alerts] == [AlertKind.NO_PRACTICE]
    practice(world.c1, world.case1, steps[0], peak=4, when=utcnow())
    services.scan_case(world.case1, utcnow() + timedelta(days=3))
    assert len(_alerts(in_app, world.case1)) == 1  # practice came back: no new alert


# --- attendance ---------------------------------------------------------------------------------


def _second_parent(db: Session, world: World, joined_days_ago: int) -> User:
    from portal.models import Role
    from tests.support.rows import link_guardian, make_user

    dad = make_user(db, Role.GUARDIAN, "Dan One", email="dan1@family.test")
    link = link_guardian(db, world.case1, dad, household="Dad's flat", relationship="Father")
    link.valid_from = utcnow() - timedelta(days=joined_days_ago)
    db.flush()
    db.expire(world.case1, ["guardian_links"])
    return dad


def test_only_the_guardians_who_came_are_asked_about_a_session(
    in_app: Session, world: World
) -> None:
    dad = _second_parent(in_app, world, joined_days_ago=30)
    session = _session(world, came=[services.guardian_key(world.g1.id)])
    assert services.feedback_due(world.case1, services.guardian_key(world.g1.id)) == [session]
    assert services.feedback_due(world.case1, services.guardian_key(dad.id)) == []
    assert services.feedback_due(world.case1, services.child_key(world.case1)) == []
    with pytest.raises(services.FeedbackRuleError, match="not recorded at this session"):
        _rate(world, session, 1, by=dad)
    assert in_app.scalars(select(SessionFeedback)).all() == []
    assert _alerts(in_app, world.case1) == []


def test_a_guardian_is_never_asked_about_a_session_before_they_joined(
    in_app: Session, world: World
) -> None:
    _session(world, days_ago=10, came=[services.guardian_key(world.g1.id)])
    newcomer = _second_parent(in_app, world, joined_days_ago=3)
    with pytest.raises(services.FeedbackRuleError, match="joined the care team after"):
        _session(world, days_ago=10, came=[services.guardian_key(newcomer.id)])
    assert services.feedback_due(world.case1, services.guardian_key(newcomer.id)) == []
    recent = _session(world, days_ago=1, came=[services.guardian_key(newcomer.id)])
    assert services.feedback_due(world.case1, services.guardian_key(newcomer.id)) == [recent]


def test_someone_outside_the_care_team_cannot_be_recorded_as_there(
    in_app: Session, world: World
) -> None:
    with pytest.raises(services.FeedbackRuleError, match="Only members of this care team"):
        _session(world, came=[services.guardian_key(world.g2.id)])


def test_a_drop_is_measured_only_against_sessions_the_guardian_attended(
    in_app: Session, world: World
) -> None:
    _rate(world, _session(world, 8), 9, heard=9)
    # A legacy answer to a session nobody recorded Gwen at does not count as "last time".
    absent = _session(world, 5, came=[services.child_key(world.case1)])
    in_app.add(
        SessionFeedback(
            session_id=absent.id,
            case_id=world.case1.id,
            respondent=Respondent.GUARDIAN,
            respondent_key=services.guardian_key(world.g1.id),
            guardian_id=world.g1.id,
            entered_by_id=world.g1.id,
            heard=4,
            matters=8,
            approach=8,
            overall=4,
            idempotency_key=str(uuid.uuid4()),
        )
    )
    in_app.flush()
    _rate(world, _session(world, 1), 9, heard=4)
    kinds = [kind for kind, _ in _alerts(in_app, world.case1)]
    assert kinds == [AlertKind.RATING_DROP]  # 9 -> 4 from the attended session, not 4 -> 4


# --- alerts cleared by their cause ----------------------------------------------------------------


def test_answering_feedback_resolves_every_alert_it_raised_with_the_answer_as_note(
    in_app: Session, world: World
) -> None:
    _rate(world, _session(world, 8), 9, heard=9)
    low = _rate(world, _session(world, 1), 2, heard=2)
    services.raise_alert(
        world.case1.id,
        AlertKind.NO_PRACTICE,
        stored(N_("No practice logged since %(day)s"), day=day(utcnow())),
        f"case:{world.case1.id}",
        "np:1",
    )
    open_before = in_app.scalars(select(CareAlert).where(CareAlert.resolved_at.is_(None))).all()
    assert sorted(a.kind for a in open_before) == sorted(
        [AlertKind.LOW_RATING, AlertKind.RATING_DROP, AlertKind.NO_PRACTICE]
    )
    services.do_answer_feedback(world.t1, low, "We will slow down and start with your questions.")
    alerts = {a.kind: a for a in in_app.scalars(select(CareAlert))}
    for kind in (AlertKind.LOW_RATING, AlertKind.RATING_DROP):
        assert alerts[kind].resolved_at is not None
        assert alerts[kind].resolution_note == "We will slow down and start with your questions."
        assert alerts[kind].resolved_by_id == world.t1.id
    assert alerts[AlertKind.NO_PRACTICE].resolved_at is None  # another cause stays open
