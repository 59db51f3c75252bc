"""Issue 13: an alert is stored as words for later (portal/stored_words.py: a msgid and its
parameters) and said in the language of the therapist who reads it, whatever language the
guardian whose answer raised it reads. Each rule raises its alert through the real services while
the acting person reads Spanish; an English-reading therapist reads English, a Spanish-reading one
Spanish, with no English sentence left."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import time_machine
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.feedback import services
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


def _every_kind_raised_in_spanish(in_app: Session, world: World) -> list[CareAlert]:
    """Each rule fires while the actor reads Spanish (Gwen answers, the scan runs)."""
    world.g1.language = "es"
    with force_locale("es_US"):
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
    alerts = list(in_app.scalars(select(CareAlert).where(CareAlert.case_id == world.case1.id)))
    assert {a.kind for a in alerts} == set(AlertKind)
    in_app.expire_all()  # read back from the database: the words survive the JSON column
    return alerts


def _english_pieces(msgid: str) -> list[str]:
    """The English words of a msgid around its parameters ("rated low:")."""
    return [p.strip() for p in re.split(r"%\(\w+\)s", msgid) if len(p.strip()) > 3]


def test_every_kind_of_alert_reads_in_the_therapists_language(
    app: Flask, in_app: Session, world: World
) -> None:
    alerts = _every_kind_raised_in_spanish(in_app, world)
    with force_locale("en_US"):
        english = {a.kind: a.summary_text for a in alerts}
    with force_locale("es_US"):
        spanish = {a.kind: a.summary_text for a in alerts}

    assert english[AlertKind.LOW_RATING] == "Gwen One rated low: overall"
    assert english[AlertKind.RATING_DROP] == (
        "Gwen One's rating of overall dropped 7 points since last time"
    )
    assert "flat at about 5/10" in english[AlertKind.FLAT_PROGRESS]
    assert "from the guardian" in english[AlertKind.FLAT_PROGRESS]
    assert english[AlertKind.NO_PRACTICE].startswith("No practice logged since ")
    assert english[AlertKind.CHECKIN_OVERDUE].startswith("Gwen One's check-in for the week of ")
    assert english == {a.kind: a.summary for a in alerts}  # the English kept in `summary`

    assert spanish[AlertKind.LOW_RATING] == "Gwen One dio una calificación baja: en general"
    assert "bajó 7 puntos" in spanish[AlertKind.RATING_DROP]
    assert "se ha mantenido en torno a 5/10" in spanish[AlertKind.FLAT_PROGRESS]
    assert "tutor o tutora" in spanish[AlertKind.FLAT_PROGRESS]
    assert spanish[AlertKind.NO_PRACTICE].startswith("Sin práctica anotada desde el ")
    assert spanish[AlertKind.CHECKIN_OVERDUE].startswith("No ha llegado el cuestionario de Gwen")
    for alert in alerts:  # the negative: no English of the msgid or its words
        words = spanish[alert.kind]
        assert alert.summary_words is not None
        for piece in [*_english_pieces(alert.summary_words.msgid), "overall", "guardian"]:
            assert piece not in words, (alert.kind, piece, words)
        assert words != english[alert.kind]


def test_dates_in_an_alert_are_written_for_the_reader(
    app: Flask, in_app: Session, world: World
) -> None:
    alerts = {a.kind: a for a in _every_kind_raised_in_spanish(in_app, world)}
    day = alerts[AlertKind.NO_PRACTICE].summary_text
    with force_locale("es_US"):
        spanish = alerts[AlertKind.NO_PRACTICE].summary_text
    month = re.search(r"since (\w{3}) \d", day)
    assert month is not None
    assert month.group(1) not in spanish  # "Nov 30" becomes "30 nov", not "Nov 30"
    assert re.search(r"desde el \d{1,2} \w{3}", spanish), spanish


def test_the_caseload_and_feedback_page_say_the_alert_in_the_readers_language(
    app: Flask, in_app: Session, world: World
) -> None:
    from portal.cases import worklist

    _every_kind_raised_in_spanish(in_app, world)
    rows = {}
    for language in ("en_US", "es_US"):
        with force_locale(language):
            queue = worklist.build_queue(
                world.t1, [world.case1], now=utcnow(), today=utcnow().date()
            )
            rows[language] = queue[0].reason
    assert "Gwen One rated low: overall" in rows["en_US"]
    assert "Gwen One dio una calificación baja: en general" in rows["es_US"]
    assert "rated low" not in rows["es_US"] and "dropped" not in rows["es_US"]


def test_an_old_alert_without_words_is_shown_as_stored(in_app: Session, world: World) -> None:
    alert = CareAlert(
        case_id=world.case1.id,
        kind=AlertKind.LOW_RATING,
        summary="Something else entirely",
        evidence="case:1",
        dedupe_key="x",
    )
    in_app.add(alert)
    in_app.flush()
    in_app.expire_all()
    assert alert.summary_words is None
    with force_locale("es_US"):
        assert alert.summary_text == "Something else entirely"


def test_the_feedback_and_before_session_pages_say_alerts_in_the_therapists_language(
    app: Flask, db_session: Session, world: World, new_browser
) -> None:
    from tests.support.session import services_on

    with services_on(app, db_session):
        world.g1.language = "es"
        with force_locale("es_US"):  # Gwen answers in Spanish
            _rate(world, 8, 9)
            _rate(world, 1, 2)
    therapist = new_browser()
    therapist.login("t1@clinic.test")
    for page in ("feedback", "before-session"):
        english = therapist.get(f"/cases/{world.case1.id}/{page}").get_data(as_text=True)
        assert "Gwen One rated low: overall" in english, page
        assert "calificación baja" not in english, page
    world.t1.language = "es"
    db_session.commit()
    for page in ("feedback", "before-session"):
        spanish = therapist.get(f"/cases/{world.case1.id}/{page}").get_data(as_text=True)
        assert "Gwen One dio una calificación baja: en general" in spanish, page
        assert "bajó 7 puntos" in spanish, page
        assert "rated low" not in spanish and "dropped" not in spanish, page
