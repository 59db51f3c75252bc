"""Issue 17: the family page, "Before the session" and a thread (its page and its poll when the
thread changed) read their case and its care team as plain rows (portal.cases.plain), and every
rule answers the plain case exactly as the mapped one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from portal.cases.plain import plain_case_for, plain_case_of_child_user
from portal.cases.queries import get_case_for, get_case_for_child_user
from portal.db import bound, utcnow
from portal.messages.queries import hours_of, primary_therapist, thread_members
from portal.messages.services import do_open_thread
from portal.models import Case, CaseTherapist, Child, GuardianLink, ServicePolicy, ThreadKind
from portal.policies import actions, can
from tests.support.browser import Browser
from tests.support.builders import (
    build_ladder_scene,
    build_threads,
    second_household,
    teen_case,
)
from tests.support.rows import PIN, World, born_years_ago, guardian_without_consent


@contextmanager
def mapped_loads(*more: type[Any]) -> Iterator[list[str]]:
    """The names of the case, child and link objects (and of `more`) the ORM builds inside the
    block."""
    built: list[str] = []

    def loaded(target: Any, _context: Any) -> None:
        built.append(type(target).__name__)

    models = (Case, Child, CaseTherapist, GuardianLink, *more)
    for model in models:
        event.listen(model, "load", loaded)
    try:
        yield built
    finally:
        for model in models:
            event.remove(model, "load", loaded)


def test_the_family_page_builds_no_case_child_or_link_object(
    browser: Browser, world: World
) -> None:
    browser.login("g1@family.test")
    with mapped_loads() as built:
        page = browser.get(f"/family/{world.case1.id}")
    assert page.status_code == 200
    assert "Dr. Tess One" in page.get_data(as_text=True)  # the care team, from the plain rows
    assert built == []


def test_before_the_session_builds_no_case_child_or_link_object(
    browser: Browser, world: World
) -> None:
    browser.login("t1@clinic.test")
    with mapped_loads() as built:
        page = browser.get(f"/cases/{world.case1.id}/before-session")
    assert page.status_code == 200
    assert "Cody SENTINEL_F1_LASTNAME_7f3a" in page.get_data(as_text=True)
    assert built == []


def test_a_thread_and_its_poll_build_no_case_child_link_or_office_hours_object(
    app: Flask, db_session: Session, browser: Browser, world: World
) -> None:
    thread_id = build_threads(app, db_session, world)["family_thread"]
    db_session.add(ServicePolicy(therapist_id=world.t1.id, office_days=0b1111111))
    db_session.commit()
    browser.login("g1@family.test")
    with mapped_loads(ServicePolicy) as built:
        page = browser.get(f"/messages/{thread_id}")
        poll = browser.htmx("GET", f"/messages/{thread_id}/updates?v=0")
    assert page.status_code == 200 and poll.status_code == 200
    text = page.get_data(as_text=True)
    assert "Dr. Tess One" in text  # a member, from the plain rows
    assert "Monday–Sunday" in text  # the office hours, from the policy's plain row
    assert built == []


def test_the_childs_tracker_builds_no_case_child_or_link_object(
    app: Flask, db_session: Session, browser: Browser, world: World
) -> None:
    steps = build_ladder_scene(app, db_session, world.t1, world.c1, world.case1, "goal-1")
    browser.login("cody1", PIN)
    with mapped_loads() as built:
        page = browser.get("/me/ladder")
    assert page.status_code == 200
    assert "Step rated 2" in page.get_data(as_text=True)
    assert f"/me/ladder/steps/{steps['step']}" in page.get_data(as_text=True)
    assert built == []


def test_the_tracker_in_child_mode_builds_no_case_child_or_link_object(
    app: Flask, db_session: Session, browser: Browser, world: World
) -> None:
    world.case1.child.date_of_birth = born_years_ago(6)
    world.case1.child.user_id = None
    db_session.commit()
    build_ladder_scene(app, db_session, world.t1, world.g1, world.case1, "goal-1")
    browser.login("g1@family.test")
    assert browser.post(f"/family/{world.case1.id}/child-mode").status_code == 303
    with mapped_loads() as built:
        page = browser.get("/me/ladder")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "My stars" in text  # the youngest's jar: the band from the plain child
    assert built == []


def test_a_childs_plain_case_is_the_one_the_mapped_read_finds(
    app: Flask, db_session: Session, world: World
) -> None:
    teen = teen_case(db_session, world)[1]  # a third child, with a case of their own
    people = (world.admin, world.t1, world.g1, world.c1, world.c2, teen)
    with app.test_request_context(), bound(db_session):
        for person in people:
            mapped, plain = get_case_for_child_user(person), plain_case_of_child_user(person)
            assert (plain.id if plain else None) == (mapped.id if mapped else None)
            if person.is_child:
                assert plain is not None and mapped is not None
                assert plain.child.user_id == mapped.child.user_id == person.id


def test_the_plain_case_is_found_exactly_where_the_mapped_one_is(
    app: Flask, db_session: Session, world: World
) -> None:
    people = (world.admin, world.t1, world.t2, world.g1, world.g2, world.c1, world.c2)
    with app.test_request_context(), bound(db_session):
        for person in people:
            for case in (world.case1, world.case2):
                found = []
                for load in (get_case_for, plain_case_for):
                    try:
                        found.append(load(person, case.id).id)
                    except NotFound:
                        found.append(None)
                assert found[0] == found[1], (person.display_name, case.id)


@pytest.mark.parametrize("links", ["current", "one ended"])
def test_every_rule_answers_the_plain_case_as_the_mapped_one(
    app: Flask, db_session: Session, world: World, links: str
) -> None:
    g3 = guardian_without_consent(db_session, world)  # a guardian without consent authority
    if links == "one ended":
        world.link1.valid_to = utcnow() - timedelta(days=1)
        world.case1.therapist_links[0].ended_at = utcnow() - timedelta(days=1)
        db_session.commit()
    people = (world.admin, world.t1, world.t2, world.g1, world.g2, g3, world.c1, world.c2)
    with app.test_request_context(), bound(db_session):
        plain = plain_case_for(world.c1, world.case1.id)  # the child's own case, links or not
        mapped = world.case1
        for person in people:
            for action in actions():
                for child_mode in (False, True):
                    assert can(person, action, plain, child_mode=child_mode) == can(
                        person, action, mapped, child_mode=child_mode
                    ), (person.display_name, action, child_mode)


def test_a_threads_members_and_main_therapist_are_the_same_from_the_plain_case(
    app: Flask, db_session: Session, world: World
) -> None:
    dad, _link = second_household(db_session, world)
    teen_case_, teen, _mum = teen_case(db_session, world)
    with app.test_request_context(), bound(db_session):
        threads = [
            (do_open_thread(world.t1, world.case1, ThreadKind.FAMILY), world.case1, world.g1),
            (
                do_open_thread(world.t1, world.case1, ThreadKind.HOUSEHOLD, dad),
                world.case1,
                dad,
            ),
            (do_open_thread(world.t1, teen_case_, ThreadKind.TEEN), teen_case_, teen),
        ]
        for thread, mapped, member in threads:
            plain = plain_case_for(member, mapped.id)
            assert [
                (m.id, m.display_name, m.is_therapist) for m in thread_members(thread, plain)
            ] == [(m.id, m.display_name, m.is_therapist) for m in thread_members(thread, mapped)]
            assert len(thread_members(thread, plain)) >= 2
            therapist, mapped_therapist = primary_therapist(plain), primary_therapist(mapped)
            assert therapist is not None and mapped_therapist is not None
            assert therapist.id == mapped_therapist.id
            assert hours_of(therapist).zone == hours_of(mapped_therapist).zone
