"""Issue 13: an alert is stored once in English and read in the therapist's language. Each rule
raises its alert through the real services; read in Spanish, no English sentence shape is left."""

from __future__ import annotations

import uuid
from datetime import timedelta

import time_machine
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.feedback import services
from portal.feedback.alert_words import alert_summary
from portal.models.feedback import AlertKind, CareAlert, SessionMode, SessionStatus
from portal.models.plans import Informant
from portal.plans import services as plans
from tests.support.builders import a_ladder, practice, proposed_plan
from tests.support.rows import World


def _rate(world: World, days_ago: int, overall: int) -> None:
    world.link1.valid_from = utcnow() - timedelta(days=90)  # Gwen was there before these sessions
    session = services.do_record_session(
        world.t1,
        world.case1,
        starts_at=utcnow() - timedelta(days=days_ago),
        mode=SessionMode.IN_PERSON,
        status=SessionStatus.HELD,
        attendance={services.guardian_key(world.g1.id): SessionMode.IN_PERSON},
    )
    services.do_submit_guardian_feedback(
        world.g1,
        world.case1,
        session,
        heard=8,
        matters=8,
        approach=8,
        overall=overall,
        comment="",
        idempotency_key=str(uuid.uuid4()),
    )


def test_every_kind_of_alert_reads_in_spanish(app: Flask, in_app: Session, world: World) -> None:
    _rate(world, 8, 9)
    _rate(world, 1, 2)  # low, and a drop of 7
    goal = proposed_plan(world.t1, world.case1).goals[0]
    for _ in range(3):
        plans.do_rate_goal(world.g1, world.case1, goal, value=5, rater_role=Informant.GUARDIAN)
    _, steps = a_ladder(world.t1, world.case1)
    practice(world.c1, world.case1, steps[0], peak=5, when=utcnow() - timedelta(days=9))
    services.scan_case(world.case1, utcnow())
    world.link1.valid_from = utcnow() - timedelta(days=60)
    in_app.flush()
    thursday = services.checkin_week_due() + timedelta(days=10)
    with time_machine.travel(thursday.isoformat() + "T12:00:00+00:00", tick=False):
        services.scan_case(world.case1, utcnow())
    alerts = in_app.scalars(select(CareAlert).where(CareAlert.case_id == world.case1.id)).all()
    assert {a.kind for a in alerts} == set(AlertKind)

    with force_locale("es_US"):
        spanish = {a.kind: alert_summary(a) for a in alerts}
    with force_locale("en_US"):
        english = {a.kind: alert_summary(a) for a in alerts}
    assert english == {a.kind: a.summary for a in alerts}  # English reads as stored
    assert spanish[AlertKind.LOW_RATING] == "Gwen One dio una calificación baja: en general"
    assert "bajó 7 puntos" in spanish[AlertKind.RATING_DROP]
    assert "se ha mantenido en torno a 5/10" in spanish[AlertKind.FLAT_PROGRESS]
    assert spanish[AlertKind.NO_PRACTICE].startswith("Sin práctica anotada desde el ")
    assert spanish[AlertKind.CHECKIN_OVERDUE].startswith("No ha llegado el cuestionario de Gwen")
    for kind, words in spanish.items():
        assert words != english[kind] and " the " not in words, (kind, words)


def test_a_summary_of_an_unknown_shape_is_shown_as_stored(in_app: Session, world: World) -> None:
    alert = CareAlert(
        case_id=world.case1.id,
        kind=AlertKind.LOW_RATING,
        summary="Something else entirely",
        evidence="case:1",
        dedupe_key="x",
    )
    with force_locale("es_US"):
        assert alert_summary(alert) == "Something else entirely"
