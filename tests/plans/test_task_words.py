"""Issue 13/14: a task on the caseload is stored as words for later (portal/stored_words.py) and
said in the therapist's language, whatever language the family member who caused it reads. Each
kind is made through the real services while the actor reads Spanish; an English-reading
therapist reads English, a Spanish-reading one Spanish, with no English msgid text left."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.cases.services import do_record_consent
from portal.models import ConsentAction, ConsentKind, ConsentMethod
from portal.models.plans import AssentChoice, ResponseKind
from portal.models.tasks import CaseTask, TaskKind
from portal.plans import services as plans
from tests.support.builders import proposed_plan
from tests.support.rows import PIN, World


def _english_pieces(msgid: str) -> list[str]:
    return [p.strip() for p in re.split(r"%\(\w+\)s", msgid) if len(p.strip()) > 3]


def _make(kind: str, world: World) -> None:
    """One task of `kind`, made while the actor reads Spanish."""
    world.g1.language = "es"
    with force_locale("es_US"):
        if kind == "priorities":
            plans.do_suggest_priorities(world.g1, world.case1, "Bedtime first, please.")
        elif kind == "review":
            plans.do_request_review(world.g1, world.case1, "Things changed at school.")
        elif kind in ("changes", "comment"):
            plan = proposed_plan(world.t1, world.case1)
            plans.do_guardian_response(
                world.g1,
                plan,
                world.case1,
                kind=ResponseKind.REQUEST_CHANGES
                if kind == "changes"
                else ResponseKind.ACCEPT_WITH_COMMENT,
                comment="Más despacio, por favor.",
            )
        elif kind == "not_ready":
            plan = proposed_plan(world.t1, world.case1)
            plans.do_record_assent(world.g1, plan, world.case1, choice=AssentChoice.NO)
        elif kind == "consent":
            do_record_consent(
                world.g1,
                world.case1,
                given_by=world.g1,
                kind=ConsentKind.TREATMENT,
                method=ConsentMethod.PORTAL,
                action=ConsentAction.REVOKED,
            )


EXPECTED = {
    # kind: (TaskKind, English summary, Spanish summary)
    "priorities": (
        TaskKind.PRIORITY_SUGGESTION,
        "Gwen One suggests a different order of priorities",
        "Gwen One propone otro orden de prioridades",
    ),
    "review": (
        TaskKind.REVIEW_REQUESTED,
        "Gwen One asks for a plan review",
        "Gwen One pide una revisión del plan",
    ),
    "changes": (
        TaskKind.PLAN_CHANGES_REQUESTED,
        "Gwen One asks for changes to plan v1",
        "Gwen One pide cambios en la versión 1 del plan",
    ),
    "comment": (
        TaskKind.PLAN_COMMENT,
        "Gwen One accepted plan v1 with a comment",
        "Gwen One aceptó la versión 1 del plan con un comentario",
    ),
    "not_ready": (
        TaskKind.CHILD_NOT_READY,
        "Cody is not ready for plan v1 yet",
        "Cody todavía no está listo o lista para la versión 1 del plan",
    ),
    "consent": (
        TaskKind.CONSENT_WITHDRAWN,
        "Gwen One withdrew: Consent to treatment",
        "Gwen One retiró: Consentimiento para el tratamiento",
    ),
}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_a_task_made_in_spanish_reads_in_the_therapists_language(
    in_app: Session, world: World, kind: str
) -> None:
    task_kind, english, spanish = EXPECTED[kind]
    _make(kind, world)
    in_app.expire_all()
    task = in_app.scalars(
        select(CaseTask).where(CaseTask.case_id == world.case1.id, CaseTask.kind == task_kind)
    ).one()
    assert task.summary_words is not None

    with force_locale("en_US"):
        assert task.summary_text == english
    with force_locale("es_US"):
        said = task.summary_text
    assert said == spanish
    for piece in _english_pieces(task.summary_words.msgid):  # the negative
        assert piece not in said, piece
    assert task.summary == english  # the English of the time, kept for old readers


def test_the_withdrawal_consequence_reads_in_the_therapists_language(
    in_app: Session, world: World
) -> None:
    """It used to be written in the guardian's language when she withdrew."""
    _make("consent", world)
    in_app.expire_all()
    task = in_app.scalars(select(CaseTask).where(CaseTask.kind == TaskKind.CONSENT_WITHDRAWN)).one()
    assert task.detail_words is not None
    with force_locale("en_US"):
        english = task.detail_text
    with force_locale("es_US"):
        spanish = task.detail_text
    assert english.startswith("Therapy is paused.")
    assert spanish != english and "Therapy is paused" not in spanish
    assert "terapia" in spanish.lower()


def test_what_the_family_typed_stays_as_typed(in_app: Session, world: World) -> None:
    _make("changes", world)
    task = in_app.scalars(select(CaseTask)).one()
    assert task.detail_words is None
    for language in ("en_US", "es_US"):
        with force_locale(language):
            assert task.detail_text == "Más despacio, por favor."


def test_an_old_task_without_words_is_shown_as_stored(in_app: Session, world: World) -> None:
    task = CaseTask(
        case_id=world.case1.id,
        kind=TaskKind.PLAN_COMMENT,
        summary="Written before words were stored",
        created_by_id=world.g1.id,
    )
    in_app.add(task)
    in_app.flush()
    with force_locale("es_US"):
        assert task.summary_text == "Written before words were stored"
        assert task.detail_text == ""


def test_the_childs_not_yet_said_in_spanish_reads_in_each_therapists_language_on_the_plan_page(
    new_browser, world: World, db_session: Session
) -> None:
    """Through the real pages: Cody reads Rapport in Spanish and says "not yet"; Dr. One reads
    the task on the plan page in English, then in Spanish once she picks it."""
    world.c1.language = "es"
    db_session.commit()
    child = new_browser()
    child.login("cody1", PIN)
    assert child.post("/me/agree", {"choice": "not_yet"}).status_code == 303

    therapist = new_browser()
    therapist.login("t1@clinic.test")
    english = therapist.get(f"/cases/{world.case1.id}/plan").get_data(as_text=True)
    assert "Cody said “not yet” to starting" in english
    assert "dijo «todavía no»" not in english

    world.t1.language = "es"
    db_session.commit()
    spanish = therapist.get(f"/cases/{world.case1.id}/plan").get_data(as_text=True)
    assert "Cody dijo «todavía no» a empezar" in spanish
    assert "said “not yet” to starting" not in spanish
