"""LG-01 and LG-07 over the whole access matrix: every page of a child's record that a person may
use writes exactly one complete audit row, and every refusal writes exactly one `denied` row
without PHI. The matrix's scene, forms and sign-ins are reused, so a new route is covered the
moment it gets its matrix row."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit import CHAINED_FIELDS
from portal.models import AuditLog, User
from tests.support.browser import Browser
from tests.support.matrix import ACTORS, MATRIX, Row, enter_state, form_for
from tests.support.people import sign_in
from tests.support.rows import World
from tests.support.scene import Scene
from tests.support.shared import (  # noqa: F401 - the module's fixtures (one scene, savepoints)
    savepoint_session,
    scene_built_once,
    scene_in_savepoint,
    signed_in_browsers,
    world_in_savepoint,
)

# Pages that show no single child's record: lists, settings, sign-in and the admin's own pages.
NOT_A_CHILD_RECORD = {
    ("auth.home", "GET"),
    ("admin.therapists", "GET"),
    ("admin.add_therapist", "POST"),
    ("audit.report", "GET"),
    ("rights.admin_requests", "GET"),  # the clinic's queue of deletion requests
    ("cases.caseload", "GET"),
    ("cases.open_case", "GET"),
    ("family.home", "GET"),
    ("messages.inbox", "GET"),
    ("messages.office_hours", "GET"),
    ("messages.save_office_hours", "POST"),
    ("child.leave", "GET"),
    ("child.leave", "POST"),
    ("rights.admin_requests", "GET"),  # the clinic's queue: a list, like the caseload
}
# Background requests that answer 204 (nothing new) or hold a live stream write nothing.
BACKGROUND = {("messages.stream", "GET"), ("messages.mark_read", "POST")}
SELF_RECORDING = ("auth.", "invitations.", "static")
FIELDS = tuple(name for name in CHAINED_FIELDS if name != "detail")  # detail may be empty


def _first(row: Row, allowed: bool) -> str | None:
    for actor in ACTORS:
        expect = row.cells[actor]
        usable = actor != "anon" and expect.allowed == allowed and expect.status != 422
        if usable and (allowed or expect.status == 404):
            return actor
    return None


SUCCESS_CELLS = [
    (row, actor)
    for row in MATRIX
    if not row.endpoint.startswith(SELF_RECORDING) and (actor := _first(row, allowed=True))
]
DENIED_CELLS = [
    (row, actor)
    for row in MATRIX
    if not row.endpoint.startswith(SELF_RECORDING) and (actor := _first(row, allowed=False))
]


def _newest(db_session: Session, since: int) -> list[AuditLog]:
    db_session.expire_all()
    return list(db_session.scalars(select(AuditLog).where(AuditLog.id > since)))


def _last_id(db_session: Session) -> int:
    return int(db_session.scalar(select(func.max(AuditLog.id))) or 0)


def _run(
    app: Flask, the_scene: Scene, new_browser: Callable[[], Browser], row: Row, actor: str
) -> tuple[int, int]:
    browser = sign_in(new_browser, actor)
    enter_state(row.state, actor, browser, the_scene, app)
    url = the_scene.url(app, row)
    form = form_for(row, the_scene)
    before = _last_id(the_scene.db_session)
    response = browser.get(url) if row.method == "GET" else browser.post(url, form)
    with response:
        assert response.status_code == row.cells[actor].status
    return before, response.status_code


@pytest.mark.parametrize(
    ("row", "actor"),
    SUCCESS_CELLS,
    ids=[f"{r.endpoint}-{r.method}-{r.state}-{a}" for r, a in SUCCESS_CELLS],
)
def test_LG01_each_use_of_a_childs_record_writes_exactly_one_complete_row(
    app: Flask,
    db_session: Session,
    world: World,
    scene: Scene,
    new_browser: Callable[[], Browser],
    row: Row,
    actor: str,
) -> None:
    before, _ = _run(app, scene, new_browser, row, actor)
    rows = _newest(db_session, before)
    if row.key in NOT_A_CHILD_RECORD or row.key in BACKGROUND:
        assert [r.action for r in rows if r.child_id is not None] == []
        return
    assert len(rows) == 1, f"{row}: {[(r.action, r.object_type) for r in rows]}"
    entry = rows[0]
    missing = [name for name in FIELDS if getattr(entry, name) is None]
    assert missing == [], f"{row}: {missing} empty"
    assert entry.outcome == "success"
    assert entry.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    user = db_session.get(User, entry.actor_id)
    assert user is not None and user.sign_in_name.startswith(
        {"C1": "cody1", "G1": "g1@", "G2": "g2@", "T1": "t1@", "T2": "t2@", "A": "a@"}[actor]
    )
    writes = ("create", "update", "delete")
    expected = ("read", "print", "export") if row.method == "GET" else writes
    assert (entry.action == "print") == (row.endpoint in ("plans.printable", "rights.printable"))
    assert (entry.action == "export") == (row.endpoint == "rights.export_json")
    # Data-rights changes name themselves (CO-02): a deletion asked or done, an account closed.
    named = ("_grant", "_revoke", "deletion_request", "deletion_complete", "account_close")
    assert entry.action in expected or entry.action.endswith(named), entry.action
    if row.endpoint == "rights.complete_request":  # the scene's waiting request is case2's
        assert entry.child_id == world.case2.child_id
    elif row.endpoint != "cases.open_case":
        assert entry.child_id == world.case1.child_id


@pytest.mark.parametrize(
    ("row", "actor"),
    DENIED_CELLS,
    ids=[f"{r.endpoint}-{r.method}-{r.state}-{a}" for r, a in DENIED_CELLS],
)
def test_LG07_each_refusal_writes_exactly_one_denied_row(
    app: Flask,
    db_session: Session,
    world: World,
    scene: Scene,
    new_browser: Callable[[], Browser],
    row: Row,
    actor: str,
) -> None:
    before, status = _run(app, scene, new_browser, row, actor)
    assert status == 404
    rows = _newest(db_session, before)
    assert [(r.outcome, r.actor_id is not None) for r in rows] == [("denied", True)], str(row)
    assert rows[0].detail is None  # ids only: no names, no text
