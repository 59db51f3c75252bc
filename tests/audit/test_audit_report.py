"""LG-05: the clinic admin's audit report (filters, sorting, pages, constant queries), and "who
viewed my child's record" for the child's guardians and therapists (DESIGN §7)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import time_machine
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal import db
from portal.audit import record
from portal.audit_report.queries import SORTS
from portal.db import utcnow
from portal.extensions import database
from portal.messages import services as messaging
from portal.models import Clinic, Role, ThreadKind
from tests.support.browser import Browser
from tests.support.builders import second_household
from tests.support.rows import World, make_case, make_user
from tests.support.session import services_on


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


def _cells(row: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
    ]


def _add(app: Flask, db_session: Session, count: int, **values: object) -> None:
    with app.test_request_context(), db.bound(db_session):
        for n in range(count):
            record(
                db_session, **{"action": "read", "object_type": "plan", "object_id": n, **values}
            )  # type: ignore[arg-type]
        db_session.commit()


@contextmanager
def counting_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = database.for_app(app).engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_LG05_the_admin_sees_who_did_what_to_which_child(
    browser: Browser, new_browser: Callable[[], Browser], world: World
) -> None:
    guardian = new_browser()
    guardian.login("g1@family.test")
    guardian.get(f"/family/{world.case1.id}")
    browser.login("a@clinic.test")
    page = browser.get("/admin/audit").get_data(as_text=True)
    rows = [_cells(r) for r in _rows(page)]
    assert [
        "Gwen One",
        "Parent or guardian",
        "Cody",
        "read",
        f"Record overview #{world.case1.id}",
    ] in [r[1:6] for r in rows]
    assert any(r[1:5] == ["Gwen One", "Parent or guardian", "", "login"] for r in rows)


def test_LG05_filters_by_date_range_person_and_child(
    app: Flask, browser: Browser, db_session: Session, world: World
) -> None:
    long_ago = utcnow() - timedelta(days=40)
    with time_machine.travel(long_ago, tick=False):
        _add(app, db_session, 2, actor=world.t2, child_id=world.case2.child_id)
    _add(app, db_session, 3, actor=world.t1, child_id=world.case1.child_id)
    browser.login("a@clinic.test")

    def shown(query: str) -> list[list[str]]:
        response = browser.get(f"/admin/audit?{query}")
        assert response.status_code == 200
        return [_cells(r) for r in _rows(response.get_data(as_text=True))]

    recent = shown(f"date_from={(utcnow() - timedelta(days=1)).date()}&user={world.t2.id}")
    assert recent == [["Nothing matches these filters."]]
    old = shown(f"date_to={(long_ago + timedelta(days=1)).date()}&child={world.case2.child_id}")
    assert [(r[1], r[3]) for r in old] == [("Dr. Theo Two", "Cara")] * 2
    by_person = shown(f"user={world.t1.id}")
    assert {r[1] for r in by_person} == {"Dr. Tess One"} and len(by_person) >= 3


def test_LG05_a_bad_filter_gets_a_field_error_and_keeps_what_was_typed(
    browser: Browser, world: World
) -> None:
    browser.login("a@clinic.test")
    response = browser.get("/admin/audit?date_from=2026-13-45&date_to=2026-01-01&user=nobody")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="2026-13-45"' in html
    assert "Please check the highlighted fields." in html
    assert html.count('class="error"') >= 2


def test_LG05_sorts_by_every_column_and_only_by_known_ones(
    app: Flask, browser: Browser, db_session: Session, world: World
) -> None:
    _add(app, db_session, 2, actor=world.t1, child_id=world.case1.child_id, outcome="denied")
    _add(app, db_session, 2, actor=world.g2, child_id=world.case2.child_id, action="update")
    browser.login("a@clinic.test")
    for key in SORTS:
        for direction in ("asc", "desc"):
            response = browser.get(f"/admin/audit?sort={key}&dir={direction}")
            assert response.status_code == 200, key
            assert f'aria-sort="{"ascending" if direction == "asc" else "descending"}"' in (
                response.get_data(as_text=True)
            )
    actions = [
        _cells(r)[4]
        for r in _rows(browser.get("/admin/audit?sort=action&dir=asc").get_data(as_text=True))
    ]
    assert actions == sorted(actions)
    people = [
        _cells(r)[1]
        for r in _rows(browser.get("/admin/audit?sort=user&dir=desc").get_data(as_text=True))
    ]
    named = [p for p in people if p != "—"]
    assert named == sorted(named, reverse=True)
    hostile = browser.get("/admin/audit?sort=id;DROP TABLE audit_log&dir=sideways")
    assert hostile.status_code == 200  # unknown keys fall back to time, newest first


def test_LG05_pages_of_fifty_with_a_constant_number_of_queries(
    app: Flask, browser: Browser, db_session: Session, world: World
) -> None:
    browser.login("a@clinic.test")
    _add(app, db_session, 3, actor=world.t1, child_id=world.case1.child_id)
    with counting_queries(app) as few:
        browser.get(f"/admin/audit?child={world.case1.child_id}")
    _add(app, db_session, 117, actor=world.t1, child_id=world.case1.child_id)
    with counting_queries(app) as many:
        first = browser.get(f"/admin/audit?child={world.case1.child_id}").get_data(as_text=True)
    assert len(many) == len(few)
    assert len(_rows(first)) == 50 and "Page 1 of 3" in first
    last = browser.get(f"/admin/audit?child={world.case1.child_id}&page=3").get_data(as_text=True)
    assert "Page 3 of 3" in last and len(_rows(last)) == 20
    assert f"child={world.case1.child_id}" in last  # the filter stays on the page links


def test_LG05_another_clinics_children_never_show(
    app: Flask, browser: Browser, db_session: Session, world: World
) -> None:
    other = Clinic(name="Elsewhere")
    db_session.add(other)
    db_session.flush()
    their_therapist = make_user(
        db_session, Role.THERAPIST, "Dr. Far", email="far@x.test", clinic=other
    )
    their_case = make_case(db_session, other, their_therapist, first="Zebedee", last="Far", age=8)
    db_session.commit()
    _add(app, db_session, 2, actor=their_therapist, child_id=their_case.child_id)
    browser.login("a@clinic.test")
    html = browser.get("/admin/audit").get_data(as_text=True)
    assert "Zebedee" not in html and "Dr. Far" not in html
    assert browser.get(f"/admin/audit?child={their_case.child_id}").status_code == 422


def test_LG05_record_views_show_the_childs_own_viewers_only(
    new_browser: Callable[[], Browser], world: World
) -> None:
    therapist = new_browser()
    therapist.login("t1@clinic.test")
    therapist.get(f"/cases/{world.case1.id}/plan")
    other_therapist = new_browser()
    other_therapist.login("t2@clinic.test")
    other_therapist.get(f"/cases/{world.case2.id}")
    guardian = new_browser()
    guardian.login("g1@family.test")
    family_page = guardian.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert f"/cases/{world.case1.id}/record-views" in family_page
    html = guardian.get(f"/cases/{world.case1.id}/record-views").get_data(as_text=True)
    rows = [_cells(r) for r in _rows(html)]
    assert ["Dr. Tess One", "Therapist"] in [r[1:3] for r in rows]
    assert ["Gwen One", "Parent or guardian"] in [r[1:3] for r in rows]  # her own visit
    assert "Dr. Theo Two" not in html and "Gus Two" not in html and "Cara" not in html
    assert guardian.get(f"/cases/{world.case2.id}/record-views").status_code == 404


def test_LG05_a_guardian_does_not_see_views_of_another_households_thread(
    app: Flask, db_session: Session, new_browser: Callable[[], Browser], world: World
) -> None:
    dad, _link = second_household(db_session, world)
    with services_on(app, db_session):
        thread = messaging.do_open_thread(world.t1, world.case1, ThreadKind.HOUSEHOLD, guardian=dad)
    therapist = new_browser()
    therapist.login("t1@clinic.test")
    assert therapist.get(f"/messages/{thread.id}").status_code == 200
    guardian = new_browser()
    guardian.login("g1@family.test")
    mine = guardian.get(f"/cases/{world.case1.id}/record-views").get_data(as_text=True)
    assert "Messages" not in "".join(_rows(mine))
    theirs = therapist.get(f"/cases/{world.case1.id}/record-views").get_data(as_text=True)
    assert "Messages" in "".join(_rows(theirs))
