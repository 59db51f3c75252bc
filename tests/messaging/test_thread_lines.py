"""The thread page writes each message from its `Line`, unpacked by position in the template
(issue 17): the template's names and the line's fields stay alike, and a message about something
the family can no longer see still says so rather than naming it."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.messages.views import Line
from portal.models import Message
from tests.support.browser import Browser
from tests.support.builders import active_plan_for
from tests.support.rows import World
from tests.support.templates import unpacked_names


def test_the_thread_template_unpacks_each_line_into_its_fields_in_their_order(app: Flask) -> None:
    # A field the template does not write is unpacked as "_field".
    names = unpacked_names(app, "messages/thread.html", "messages")
    assert [name.removeprefix("_") for name in names] == list(Line._fields)


def test_a_message_about_something_no_longer_shown_says_so_in_both_languages(
    app: Flask,
    new_browser: Callable[[], Browser],
    world: World,
    db_session: Session,
    threads: dict[str, int],
) -> None:
    plan = active_plan_for(app, db_session, world.t1, world.case1, world.g1, world.c1)
    goal = plan.goals[0]
    thread_id = threads["family_thread"]
    gwen = new_browser()
    gwen.login("g1@family.test")
    sent = gwen.post(
        f"/messages/{thread_id}",
        {"body": "About ours", "idempotency_key": str(uuid.uuid4()), "about": f"goal:{goal.id}"},
    )
    assert sent.status_code == 303
    page = gwen.get(f"/messages/{thread_id}").get_data(as_text=True)
    assert f"about: Cody — goal: {goal.child_text}" in page
    # The goal is out of the family's reach now (as a goal of another case would be).
    about = select(Message.id).where(Message.thread_id == thread_id, Message.ref_id == goal.id)
    db_session.execute(
        update(Message).where(Message.id == about.scalar_subquery()).values(ref_id=goal.id + 10_000)
    )
    db_session.commit()
    page = gwen.get(f"/messages/{thread_id}").get_data(as_text=True)
    assert "about: Cody — something no longer shown" in page
    assert goal.child_text not in page.split('id="compose"')[0]
    spanish = gwen.get(f"/messages/{thread_id}", headers={"Accept-Language": "es"})
    assert "sobre: Cody — algo que ya no se muestra" in spanish.get_data(as_text=True)
