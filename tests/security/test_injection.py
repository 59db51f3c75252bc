"""Injection and input (SECURITY 2.6): identifiers from an allowlist (IN-01), no header or log
line forged with CR/LF (IN-04), and the business flow kept in order (IN-05)."""

from __future__ import annotations

import io
import logging
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.feedback import services as feedback
from portal.logs import HANDLER_NAME
from portal.models import (
    DataRequest,
    LadderStep,
    PlanVersion,
    PracticeAttempt,
    SessionFeedback,
    StepStatus,
)
from portal.models.feedback import SessionMode, SessionStatus
from portal.security import public
from tests.support.browser import Browser
from tests.support.builders import a_ladder, family_plan
from tests.support.rows import PIN, World, state_hash
from tests.support.session import services_on

ROOT = Path(__file__).resolve().parents[2]


# IN-01 ----------------------------------------------------------------------------------------


def add_requests(db_session: Session, world: World) -> list[int]:
    first = DataRequest(
        case_id=world.case1.id,
        requested_by_id=world.g1.id,
        requested_at=utcnow() - timedelta(days=2),
    )
    second = DataRequest(case_id=world.case2.id, requested_by_id=world.g2.id)
    db_session.add_all([first, second])
    db_session.commit()
    return [first.id, second.id]


def test_IN01_sort_keys_come_from_an_allowlist(
    db_session: Session, world: World, browser: Browser
) -> None:
    add_requests(db_session, world)
    browser.login("a@clinic.test")
    before = state_hash(db_session, ("data_requests", "cases", "children"))
    for attack in (
        "id;drop table data_requests",
        "requested_at; DROP TABLE cases--",
        "(select 1)",
        "requested desc",
        "1",
    ):
        response = browser.get("/admin/data-requests", query_string={"sort": attack})
        assert response.status_code == 400, attack
    bad_order = browser.get(
        "/admin/data-requests", query_string={"sort": "requested", "order": "desc;--"}
    )
    assert bad_order.status_code == 400
    assert state_hash(db_session, ("data_requests", "cases", "children")) == before

    ascending = browser.get("/admin/data-requests?sort=requested&order=asc").get_data(as_text=True)
    descending = browser.get("/admin/data-requests?sort=requested&order=desc").get_data(
        as_text=True
    )
    assert ascending.index("Cody,") < ascending.index("Cara,")
    assert descending.index("Cara,") < descending.index("Cody,")


def test_IN01_raw_sql_text_is_never_built_from_strings() -> None:
    """Every `text(...)` in the app is a constant: no f-string, %, + or .format inside it."""
    for path in sorted((ROOT / "portal").rglob("*.py")):
        source = path.read_text()
        for match in re.finditer(r"\btext\((.*?)\)", source):
            argument = match.group(1)
            assert not argument.lstrip().startswith(('f"', "f'")), f"{path}: {argument}"
            assert ".format(" not in argument and "%" not in argument, f"{path}: {argument}"
            assert not re.search(r"[\"']\s*\+|\+\s*[\"']", argument), f"{path}: {argument}"
        assert "literal_column(" not in source, path


# IN-04 ----------------------------------------------------------------------------------------

CRLF = "Cody\r\nSet-Cookie: evil=1\r\nX-Injected: yes"


def test_IN04_crlf_in_names_never_splits_a_header(
    db_session: Session, world: World, browser: Browser
) -> None:
    world.case1.child.first_name = CRLF
    world.g1.display_name = "Gwen\r\nLocation: https://evil.test"
    db_session.commit()
    browser.login("g1@family.test")
    for url in (
        f"/family/{world.case1.id}",
        f"/family/{world.case1.id}/data",
        f"/family/{world.case1.id}/data/export.json",
        f"/family/{world.case1.id}/data/print",
    ):
        response = browser.get(url)
        assert response.status_code == 200, url
        assert "X-Injected" not in response.headers
        assert all("evil" not in value for _, value in response.headers.items()), url
    redirected = browser.get("/login?next=/family%0d%0aSet-Cookie:%20evil=1")
    assert "\n" not in redirected.headers.get("Location", "")


def test_IN04_typed_text_never_forges_a_log_line(make_app: Any) -> None:
    app: Flask = make_app()

    @public
    def boom() -> str:
        raise ValueError(f"could not read {request.args['q']}")

    app.add_url_rule("/_test/boom", "boom", boom)
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == HANDLER_NAME)
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        response = app.test_client().get(
            "/_test/boom", query_string={"q": "x\r\n2026-01-01 ERROR FAKE LOG: admin signed in"}
        )
    finally:
        handler.setStream(previous)
    assert response.status_code == 500
    lines = buffer.getvalue().splitlines()
    event = [line for line in lines if "unhandled error" in line]
    assert len(event) == 1
    assert "\\r\\n2026-01-01 ERROR FAKE LOG" in event[0]  # the traceback is on the same line
    assert not any(line.startswith("2026-01-01 ERROR FAKE LOG") for line in lines)


# IN-05 ----------------------------------------------------------------------------------------


def test_IN05_an_active_plan_cannot_be_edited(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    ids = family_plan(app, db_session, world)
    browser.login("t1@clinic.test")
    active = db_session.get(PlanVersion, ids.active)
    assert active is not None
    before = state_hash(db_session, ("plan_versions", "goals", "benchmarks", "interventions"))

    response = browser.post(
        f"/plans/{active.id}/edit",
        {
            "edit_version": str(active.edit_version),
            "change_summary": "Rewriting history",
            "review_interval_days": "30",
        },
    )

    assert response.status_code == 409
    assert "no longer a draft" in response.get_data(as_text=True)
    assert (
        state_hash(db_session, ("plan_versions", "goals", "benchmarks", "interventions")) == before
    )


def test_IN05_no_feedback_for_a_session_that_has_not_happened(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    with services_on(app, db_session):
        planned = feedback.do_record_session(
            world.t1,
            world.case1,
            starts_at=utcnow() + timedelta(days=3),
            mode=SessionMode.VIDEO,
            status=SessionStatus.SCHEDULED,
            attendees="",
        )
    browser.login("g1@family.test")
    url = f"/family/{world.case1.id}/sessions/{planned.id}/feedback"
    assert browser.get(url).status_code == 404
    response = browser.post(
        url,
        {
            "idempotency_key": str(uuid.uuid4()),
            **{item: "8" for item in ("heard", "matters", "approach", "overall")},
            "comment": "Great session!",
        },
    )
    assert response.status_code == 422
    assert "Great session!" in response.get_data(as_text=True)  # the typed text is kept
    assert not db_session.scalars(
        select(SessionFeedback).where(SessionFeedback.session_id == planned.id)
    ).all()


def test_IN05_a_child_cannot_master_a_step_or_practise_a_locked_one(
    app: Flask, db_session: Session, world: World, browser: Browser
) -> None:
    with services_on(app, db_session):
        ladder, steps = a_ladder(world.t1, world.case1, (2, 3.5))
    locked = db_session.get(LadderStep, steps[1].id)
    assert locked is not None and locked.status is StepStatus.LOCKED
    browser.login("cody1", PIN)

    override = browser.post(
        f"/ladders/{ladder.id}/steps/{locked.id}/status", {"status": "mastered"}
    )
    practice = browser.post(
        f"/me/ladder/steps/{locked.id}",
        {
            "idempotency_key": str(uuid.uuid4()),
            "when": "now",
            "fear_before": "3",
            "fear_peak": "4",
            "fear_after": "1",
            "completion": "full",
            "coach": "",
        },
    )

    assert override.status_code == 404  # the therapist's override is not the child's to use
    assert practice.status_code == 422
    db_session.expire_all()
    assert db_session.get(LadderStep, locked.id).status is StepStatus.LOCKED  # type: ignore[union-attr]
    assert not db_session.scalars(
        select(PracticeAttempt).where(PracticeAttempt.step_id == locked.id)
    ).all()
