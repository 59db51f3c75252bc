"""The caseload as a work queue (issue 14): the family that needs the therapist most comes first,
with one line saying why; sort, filter and search live in the URL and answer htmx with the results
fragment; 40 and 400 cases cost the same number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.cases import worklist
from portal.cases.queries import cases_for
from portal.cases.services import do_record_consent
from portal.db import bound, utcnow
from portal.feedback.notes import do_answer_note, do_resolve_note, do_send_note
from portal.models import Case, CaseStatus, PlanStatus, PlanVersion, Role, User
from portal.models.consent import ConsentAction, ConsentKind, ConsentMethod
from portal.models.feedback import AlertKind, CareAlert, FamilyNote, NoteMood
from portal.models.messages import MessageThread, ThreadKind
from portal.models.tasks import CaseTask, TaskKind
from tests.support.browser import Browser
from tests.support.rows import World, link_guardian, make_case, make_user

# Child first name -> what is waiting; the expected queue order, most urgent first.
ORDER = ["Rory", "Tess", "Remy", "Sian", "Fern", "Olive", "Rhea", "Nell", "Olga"]


def _consent(guardian: User, case: Case, action: ConsentAction) -> None:
    do_record_consent(
        guardian,
        case,
        given_by=guardian,
        kind=ConsentKind.TREATMENT,
        method=ConsentMethod.PORTAL,
        action=action,
    )


def _triage_caseload(app: Flask, db: Session, world: World) -> dict[str, Case]:
    """T1's caseload: one family per kind of urgency, one calm family, one paused."""
    t1 = world.t1
    cases = {"Cody": world.case1}
    for first in [*ORDER, "Cal", "Pia"]:
        cases[first] = make_case(db, world.clinic, t1, first=first, last="Queue", age=9)
    guardian = make_user(db, Role.GUARDIAN, "Greta Fernsby", email="greta@family.test")
    link_guardian(db, cases["Fern"], guardian)
    now = utcnow()
    # Tess's mother withdrew treatment consent: the case pauses and a notice waits.
    tess_mum = make_user(db, Role.GUARDIAN, "Ada Tessel", email="ada@family.test")
    link_guardian(db, cases["Tess"], tess_mum)
    cases["Tess"].status = CaseStatus.ACTIVE
    # Olive's father sent a "How is it going?" note nobody has answered yet.
    olive_dad = make_user(db, Role.GUARDIAN, "Hugh Olivant", email="hugh@family.test")
    link_guardian(db, cases["Olive"], olive_dad)
    with app.test_request_context(), bound(db):
        _consent(tess_mum, cases["Tess"], ConsentAction.REVOKED)
        do_send_note(
            olive_dad,
            cases["Olive"],
            mood=NoteMood.HARD,
            text="She cried at the school gate again.",
            idempotency_key="0b0e0000-0000-4000-8000-000000000001",
        )
    db.add_all(
        [
            CareAlert(
                case_id=cases["Rory"].id,
                kind=kind,
                summary=f"Rory's mum: {kind.value}",
                evidence="feedback:999",
                dedupe_key=f"t-{kind.value}",
                created_at=now - timedelta(hours=2),
            )
            for kind in (AlertKind.LOW_RATING, AlertKind.RATING_DROP)
        ]
    )
    db.add(
        MessageThread(
            case_id=cases["Remy"].id,
            kind=ThreadKind.FAMILY,
            created_by_id=t1.id,
            reply_due_at=now - timedelta(days=1),
            last_message_at=now - timedelta(days=4),
        )
    )
    db.add(
        PlanVersion(
            case_id=cases["Sian"].id, number=1, status=PlanStatus.PROPOSED, created_by_id=t1.id
        )
    )
    db.add(
        CaseTask(
            case_id=cases["Fern"].id,
            kind=TaskKind.PLAN_COMMENT,
            summary="Can we move bedtime practice?",
            created_by_id=guardian.id,
        )
    )
    db.add(
        PlanVersion(
            case_id=cases["Rhea"].id,
            number=1,
            status=PlanStatus.ACTIVE,
            created_by_id=t1.id,
            review_due_on=now.date() - timedelta(days=3),
        )
    )
    db.add(
        CareAlert(
            case_id=cases["Nell"].id,
            kind=AlertKind.NO_PRACTICE,
            summary="No practice logged since Nov 20",
            evidence=f"case:{cases['Nell'].id}",
            dedupe_key="t-nopractice",
        )
    )
    db.add(
        CareAlert(
            case_id=cases["Olga"].id,
            kind=AlertKind.CHECKIN_OVERDUE,
            summary="Olga's dad's check-in has not come in",
            evidence=f"case:{cases['Olga'].id}",
            dedupe_key="t-checkin",
        )
    )
    cases["Pia"].status = CaseStatus.PAUSED
    db.commit()
    return cases


@pytest.fixture()
def triage(app: Flask, db_session: Session, world: World) -> dict[str, Case]:
    return _triage_caseload(app, db_session, world)


def _queue(app: Flask, db: Session, world: World, **args: str) -> list[worklist.QueueRow]:
    with app.test_request_context(), bound(db):
        rows = worklist.build_queue(
            world.t1, cases_for(world.t1), now=utcnow(), today=utcnow().date()
        )
        shown = worklist.view_of(rows, worklist.QueueState.from_args(args), today=utcnow().date())
    return shown


def test_the_queue_puts_a_rupture_first_then_each_kind_of_urgency_in_order(
    app: Flask, db_session: Session, world: World, triage: dict[str, Case]
) -> None:
    rows = _queue(app, db_session, world)
    firsts = [row.case.child.first_name for row in rows]
    assert firsts[: len(ORDER)] == ORDER
    assert [row.top for row in rows[: len(ORDER)]] == sorted(worklist.Urgency)
    assert set(firsts[len(ORDER) :]) == {"Cody", "Cal", "Pia"}  # nothing waiting: after the rest
    top = rows[0]
    # The two alerts raised by one answer are one item with both reasons.
    assert len(top.alert_groups) == 1 and len(top.alert_groups[0].alerts) == 2
    assert top.reason == "Rory's mum: low_rating; Rory's mum: rating_drop"
    assert top.alert_groups[0].feedback_id == 999


def test_filters_and_search_choose_the_right_families(
    app: Flask, db_session: Session, world: World, triage: dict[str, Case]
) -> None:
    def names(**args: str) -> set[str]:
        return {row.case.child.first_name for row in _queue(app, db_session, world, **args)}

    assert names(filter="attention") == set(ORDER)
    assert names(filter="reply") == {"Remy"}
    assert names(filter="plan") == {"Sian"}
    assert names(filter="review") == {"Rhea"}
    assert names(filter="paused") == {"Pia", "Tess"}  # Tess: consent withdrawn
    assert names(filter="mine") == {*ORDER, "Cody", "Cal", "Pia"}
    assert names(q="fernsby") == {"Fern"}  # a guardian's name finds the family
    assert names(q="RORY") == {"Rory"}
    assert names(filter="attention", q="cal") == set()
    assert names(filter="nonsense", sort="nonsense") == names()  # a bad link shows everyone
    by_name = [row.case.child.first_name for row in _queue(app, db_session, world, sort="name")]
    assert by_name[:3] == ["Cal", "Fern", "Nell"]


def test_another_therapists_families_never_appear(
    app: Flask, db_session: Session, world: World, triage: dict[str, Case]
) -> None:
    names = {row.case.child.first_name for row in _queue(app, db_session, world, q="Cara")}
    assert names == set()


def test_the_same_url_answers_the_whole_page_or_the_results_fragment_for_htmx(
    browser: Browser, world: World, db_session: Session, triage: dict[str, Case]
) -> None:
    browser.login("t1@clinic.test")
    url = "/caseload?filter=attention&sort=urgency&q=r"
    page = browser.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and 'id="queue-results"' in html
    assert 'value="attention" checked' in html and 'value="r"' in html  # the form shows the state
    fragment = browser.client.get(url, headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and "<form" not in body
    assert "Vary" in fragment.headers and "HX-Request" in fragment.headers["Vary"]
    shown = re.findall(r'class="queue-name" href="/cases/\d+">([^<]+)<', body)
    assert shown == ["Rory Queue", "Remy Queue", "Fern Queue", "Rhea Queue"]  # Fern: Greta
    assert "Rupture or low rating" in body and "Open the feedback" in body
    remy_thread = db_session.scalars(
        select(MessageThread.id).where(MessageThread.case_id == triage["Remy"].id)
    ).one()
    assert f'<a href="/messages/{remy_thread}">Open the message<' in body  # the message itself
    # A boosted navigation or a history restore gets the whole page at the same URL.
    restore = browser.client.get(
        url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.get_data(as_text=True)


def test_a_search_with_no_match_says_so_and_offers_everyone(
    browser: Browser, world: World, triage: dict[str, Case]
) -> None:
    browser.login("t1@clinic.test")
    page = browser.get("/caseload?q=zzzz").get_data(as_text=True)
    assert "No family matches" in page and "0 of 12 families" in page


def test_answering_the_feedback_takes_the_family_out_of_needs_attention(
    app: Flask, browser: Browser, world: World, db_session: Session
) -> None:
    from portal.feedback import services
    from portal.models.feedback import SessionMode, SessionStatus

    with app.test_request_context(), bound(db_session):
        session = services.do_record_session(
            world.t1,
            world.case1,
            starts_at=utcnow() - timedelta(hours=20),
            mode=SessionMode.IN_PERSON,
            status=SessionStatus.HELD,
            attendance={services.guardian_key(world.g1.id): SessionMode.IN_PERSON},
        )
        low = services.do_submit_guardian_feedback(
            world.g1,
            world.case1,
            session,
            heard=2,
            matters=5,
            approach=5,
            overall=3,
            comment="We felt rushed.",
            idempotency_key="6f1c2d3e-0000-4000-8000-000000000001",
        )
        db_session.commit()
    browser.login("t1@clinic.test")
    needing = browser.get("/caseload?filter=attention").get_data(as_text=True)
    assert "Cody SENTINEL_F1" in needing and "Gwen One rated low" in needing
    assert f'/cases/{world.case1.id}/feedback#feedback-{low.id}"' in needing  # the evidence
    feedback_page = browser.get(f"/cases/{world.case1.id}/feedback").get_data(as_text=True)
    assert feedback_page.count('<span class="tag">Low rating</span>') == 1  # one item
    answered = browser.post(
        f"/cases/{world.case1.id}/feedback/{low.id}/answer",
        {"answer": "Next time we keep ten minutes for your questions."},
    )
    assert answered.status_code == 303
    after = browser.get("/caseload?filter=attention").get_data(as_text=True)
    assert "Cody SENTINEL_F1" not in after and "0 of 1 families" in after
    page = browser.get(f"/cases/{world.case1.id}/feedback").get_data(as_text=True)
    assert "No open alerts." in page
    assert "Next time we keep ten minutes for your questions." in page  # the note, resolved
    alerts = db_session.scalars(select(CareAlert)).all()
    assert alerts and all(a.resolved_at is not None for a in alerts)


def test_a_withdrawn_consent_ranks_just_below_a_rupture_until_read_or_given_again(
    app: Flask, db_session: Session, world: World, triage: dict[str, Case]
) -> None:
    from portal.plans.services import do_resolve_task

    rows = {row.case.child.first_name: row for row in _queue(app, db_session, world)}
    tess = rows["Tess"]
    assert tess.top is worklist.Urgency.CONSENT_WITHDRAWN and tess.needs_attention
    assert tess.reason == "Treatment consent was withdrawn: the case is paused."
    # The notice is not also counted as a family request.
    assert worklist.Urgency.FAMILY_REQUEST not in tess.urgencies
    mum = db_session.scalars(select(User).where(User.email == "ada@family.test")).one()
    notice = db_session.scalars(select(CaseTask).where(CaseTask.case_id == triage["Tess"].id)).one()
    assert notice.kind is TaskKind.CONSENT_WITHDRAWN

    # Given again: the family no longer ranks, though the notice itself is still open.
    with app.test_request_context(), bound(db_session):
        _consent(mum, triage["Tess"], ConsentAction.GRANTED)
        db_session.commit()
    assert notice.resolved_at is None and triage["Tess"].status is CaseStatus.ACTIVE
    again = {row.case.child.first_name: row for row in _queue(app, db_session, world)}
    assert not again["Tess"].urgencies
    assert "Tess" not in {
        r.case.child.first_name for r in _queue(app, db_session, world, filter="attention")
    }

    # Withdrawn once more (a second notice), then the therapist reads and resolves the notices.
    with app.test_request_context(), bound(db_session):
        _consent(mum, triage["Tess"], ConsentAction.REVOKED)
        db_session.commit()
    assert _queue(app, db_session, world)[1].case.child.first_name == "Tess"
    with app.test_request_context(), bound(db_session):
        for task in db_session.scalars(
            select(CaseTask).where(CaseTask.case_id == triage["Tess"].id)
        ):
            do_resolve_task(world.t1, task, "Phoned Ada; we meet on Monday.")
        db_session.commit()
    after = {row.case.child.first_name: row for row in _queue(app, db_session, world)}
    assert not after["Tess"].urgencies  # paused, shown under "Paused", but nothing to act on
    paused = {r.case.child.first_name for r in _queue(app, db_session, world, filter="paused")}
    assert "Tess" in paused


def test_a_family_note_ranks_like_a_family_request_until_answered_or_dealt_with(
    app: Flask, db_session: Session, world: World, triage: dict[str, Case]
) -> None:
    rows = _queue(app, db_session, world)
    firsts = [row.case.child.first_name for row in rows]
    # After the family request (Fern), before the overdue review (Rhea).
    assert firsts.index("Fern") < firsts.index("Olive") < firsts.index("Rhea")
    olive = rows[firsts.index("Olive")]
    assert olive.top is worklist.Urgency.FAMILY_NOTE
    assert olive.reason == "1 “How is it going?” note waits for your answer."
    note = db_session.scalars(
        select(FamilyNote).where(FamilyNote.case_id == triage["Olive"].id)
    ).one()
    assert olive.flags["oldest_notes"] == note.id  # the row links to the note itself
    attention = {
        r.case.child.first_name for r in _queue(app, db_session, world, filter="attention")
    }
    assert "Olive" in attention

    # Answered: the family is no longer waiting.
    with app.test_request_context(), bound(db_session):
        do_answer_note(world.t1, note, "Thank you. We will talk about the gate on Tuesday.")
        db_session.commit()
    answered = {r.case.child.first_name: r for r in _queue(app, db_session, world)}
    assert not answered["Olive"].urgencies

    # A second note, resolved without an answer ("dealt with" in the session): no rank either.
    dad = db_session.scalars(select(User).where(User.email == "hugh@family.test")).one()
    with app.test_request_context(), bound(db_session):
        second = do_send_note(
            dad,
            triage["Olive"],
            mood=NoteMood.MIXED,
            text="Better this week.",
            idempotency_key="0b0e0000-0000-4000-8000-000000000002",
        )
        db_session.commit()
    assert (
        worklist.Urgency.FAMILY_NOTE
        in {r.case.child.first_name: r for r in _queue(app, db_session, world)}["Olive"].urgencies
    )
    with app.test_request_context(), bound(db_session):
        do_resolve_note(world.t1, second)
        db_session.commit()
    resolved = {r.case.child.first_name: r for r in _queue(app, db_session, world)}
    assert not resolved["Olive"].urgencies


def test_the_caseload_page_ranks_consent_and_notes_with_their_evidence(
    browser: Browser, world: World, db_session: Session, triage: dict[str, Case]
) -> None:
    browser.login("t1@clinic.test")
    page = browser.get("/caseload?filter=attention").get_data(as_text=True)
    shown = re.findall(r'class="queue-name" href="/cases/\d+">([^<]+)<', page)
    assert shown[:2] == ["Rory Queue", "Tess Queue"]
    assert "Consent withdrawn" in page and "Read the notice" in page
    note = db_session.scalars(
        select(FamilyNote).where(FamilyNote.case_id == triage["Olive"].id)
    ).one()
    assert f'/cases/{triage["Olive"].id}/feedback#note-{note.id}">Open the note<' in page
    assert (
        'class="queue-note"'
        not in page.split(f'id="case-{triage["Olive"].id}"')[1].split("</li>")[0]
    )


def test_within_one_kind_the_family_waiting_longest_comes_first(
    app: Flask, db_session: Session, world: World, triage: dict[str, Case]
) -> None:
    """Olive's note came just now; Zoe Aaron's (who sorts first by name anyway) three days ago,
    then just after Olive's: the oldest first, whatever the name."""
    zoe = make_case(db_session, world.clinic, world.t1, first="Zoe", last="Aaron", age=9)
    parent = make_user(db_session, Role.GUARDIAN, "Una Aaron", email="una@family.test")
    link_guardian(db_session, zoe, parent)
    with app.test_request_context(), bound(db_session):
        note = do_send_note(
            parent,
            zoe,
            mood=NoteMood.MIXED,
            text="A mixed week.",
            idempotency_key="0b0e0000-0000-4000-8000-000000000003",
        )
        note.created_at = utcnow() - timedelta(days=3)
        db_session.commit()
    rows = _queue(app, db_session, world)
    notes = [r.case.child.first_name for r in rows if r.top is worklist.Urgency.FAMILY_NOTE]
    assert notes == ["Zoe", "Olive"]
    note.created_at = utcnow()
    db_session.commit()
    rows = _queue(app, db_session, world)
    notes = [r.case.child.first_name for r in rows if r.top is worklist.Urgency.FAMILY_NOTE]
    assert notes == ["Olive", "Zoe"]  # now Olive's is the older one


def test_the_page_reads_the_same_queue_as_plain_columns(
    app: Flask, db_session: Session, world: World, triage: dict[str, Case]
) -> None:
    """Issue 17: the page builds its queue from plain columns (`caseload_queue`); every row says
    what `build_queue` says of the loaded cases: the child, the therapist's role, the current
    guardians, the urgencies and why, the practice, the next session and the last contact."""
    second = make_user(db_session, Role.GUARDIAN, "Gail Second", email="gail@family.test")
    ended = make_user(db_session, Role.GUARDIAN, "Eddie Ended", email="eddie@family.test")
    link_guardian(db_session, world.case1, second, household="Dad's house")
    link_guardian(db_session, world.case1, ended).valid_to = utcnow() - timedelta(days=1)
    db_session.commit()

    def seen(row: worklist.QueueRow) -> tuple[object, ...]:
        child = row.case.child
        return (
            row.case.id,
            row.case.status,
            child.full_name,
            child.age(utcnow().date()),
            row.is_primary,
            row.guardian_people,
            row.urgencies,
            row.reason,
            [[alert.id for alert in group.alerts] for group in row.alert_groups],
            row.flags,
            row.last_practice,
            row.practice_week,
            row.next_session,
            row.last_contact,
        )

    with app.test_request_context(), bound(db_session):
        now, today = utcnow(), utcnow().date()
        loaded = worklist.build_queue(world.t1, cases_for(world.t1), now=now, today=today)
        plain = worklist.caseload_queue(world.t1, now=now, today=today)
    assert len(plain) == len(loaded) >= len(triage)
    assert [seen(row) for row in plain] == [seen(row) for row in loaded]
    assert ("Gail Second", "Dad's house") in plain[0].guardian_people
    assert "Eddie Ended" not in str([row.guardian_people for row in plain])
