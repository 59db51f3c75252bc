"""A conversation: sending, the compose box, read receipts, unread counts, references, office
hours and the reply window on the caseload."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from portal import db
from portal.extensions import database
from portal.messages import services
from portal.messages.hours import Hours
from portal.models import Message, MessageKind, MessageThread, ServicePolicy, ThreadRead
from tests.support.browser import Browser
from tests.support.builders import active_plan_for, post
from tests.support.rows import World
from tests.support.session import services_on

HTMX = {"HX-Request": "true"}
KEY = re.compile(r'name="idempotency_key" type="hidden" value="([^"]+)"')


@pytest.fixture(autouse=True)
def in_office_hours() -> Iterator[None]:
    """Tuesday 10:00 in New York (the default office hours), time running: no automatic notices
    unless a test posts at another time on purpose."""
    today = datetime.now(UTC).date()
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
    with time_machine.travel(datetime.combine(tuesday, time(15, 0), tzinfo=UTC), tick=True):
        yield


def signed_in(new_browser: Callable[[], Browser], who: str) -> Browser:
    browser = new_browser()
    browser.login(who)
    return browser


def compose_key(browser: Browser, thread_id: int) -> str:
    match = KEY.search(browser.get(f"/messages/{thread_id}").get_data(as_text=True))
    assert match
    return match.group(1)


def messages_in(db_session: Session, thread_id: int) -> list[Message]:
    return list(
        db_session.scalars(
            select(Message)
            .where(Message.thread_id == thread_id)
            .order_by(Message.seq)
            .execution_options(populate_existing=True)
        )
    )


def test_a_guardian_sends_a_message_and_sees_it_saved(
    new_browser: Callable[[], Browser], world: World, db_session: Session, threads: dict[str, int]
) -> None:
    gwen = signed_in(new_browser, "g1@family.test")
    thread_id = threads["family_thread"]
    key = compose_key(gwen, thread_id)
    response = gwen.post(
        f"/messages/{thread_id}", {"body": "Bedtime went well!\r\n", "idempotency_key": key}
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/messages/{thread_id}")
    page = gwen.get(response.headers["Location"]).get_data(as_text=True)
    assert "Message sent." in page
    assert "Bedtime went well!" in page
    stored = messages_in(db_session, thread_id)[-1]
    assert (stored.author_id, stored.body, stored.seq) == (world.g1.id, "Bedtime went well!", 2)


def test_RL02_a_double_clicked_send_stores_one_message(
    new_browser: Callable[[], Browser], db_session: Session, threads: dict[str, int]
) -> None:
    gwen = signed_in(new_browser, "g1@family.test")
    thread_id = threads["family_thread"]
    form = {"body": "Only once please", "idempotency_key": compose_key(gwen, thread_id)}
    first = gwen.post(f"/messages/{thread_id}", form)
    second = gwen.post(f"/messages/{thread_id}", form)
    assert (first.status_code, second.status_code) == (303, 303)
    assert second.headers["Location"] == first.headers["Location"]
    assert [m.body for m in messages_in(db_session, thread_id)].count("Only once please") == 1


def test_RL02_the_same_key_with_another_text_is_refused_and_the_text_kept(
    new_browser: Callable[[], Browser], db_session: Session, threads: dict[str, int]
) -> None:
    gwen = signed_in(new_browser, "g1@family.test")
    thread_id = threads["family_thread"]
    key = compose_key(gwen, thread_id)
    assert (
        gwen.post(f"/messages/{thread_id}", {"body": "First", "idempotency_key": key}).status_code
        == 303
    )
    again = gwen.post(f"/messages/{thread_id}", {"body": "Second text", "idempotency_key": key})
    assert again.status_code == 422
    assert "Second text" in again.get_data(as_text=True)
    assert len(messages_in(db_session, thread_id)) == 2


def test_an_empty_or_too_long_message_is_refused_keeping_the_typed_text(
    new_browser: Callable[[], Browser], db_session: Session, threads: dict[str, int]
) -> None:
    gwen = signed_in(new_browser, "g1@family.test")
    thread_id = threads["family_thread"]
    empty = gwen.post(
        f"/messages/{thread_id}", {"body": "   ", "idempotency_key": str(uuid.uuid4())}
    )
    assert empty.status_code == 422
    long_text = "x" * 5000 + "TAIL_MARK"
    too_long = gwen.post(
        f"/messages/{thread_id}", {"body": long_text, "idempotency_key": str(uuid.uuid4())}
    )
    assert too_long.status_code == 422
    body = too_long.get_data(as_text=True)
    assert "TAIL_MARK" in body and "at most 5,000 characters" in body
    exactly = gwen.post(
        f"/messages/{thread_id}", {"body": "y" * 5000, "idempotency_key": str(uuid.uuid4())}
    )
    assert exactly.status_code == 303
    assert len(messages_in(db_session, thread_id)) == 2
    bad_key = gwen.post(f"/messages/{thread_id}", {"body": "hello", "idempotency_key": "nope"})
    assert bad_key.status_code == 422


def test_every_compose_box_shows_the_crisis_notice_hours_and_reply_date(
    new_browser: Callable[[], Browser], threads: dict[str, int]
) -> None:
    for who in ("g1@family.test", "t1@clinic.test"):
        page = signed_in(new_browser, who).get(f"/messages/{threads['family_thread']}")
        text = page.get_data(as_text=True)
        assert "Not for emergencies" in text and "911" in text and "988" in text
        assert "Dr. Tess One's office hours: Monday–Friday, 9:00 AM–5:00 PM" in text
    family_view = signed_in(new_browser, "g1@family.test").get(
        f"/messages/{threads['family_thread']}"
    )
    assert re.search(r"expect a reply by <strong>\w+", family_view.get_data(as_text=True))


def test_read_receipts_family_sees_read_by_the_therapist_and_therapist_sees_who_read(
    app: Flask,
    new_browser: Callable[[], Browser],
    world: World,
    db_session: Session,
    threads: dict[str, int],
) -> None:
    thread_id = threads["family_thread"]
    gwen = signed_in(new_browser, "g1@family.test")
    key = compose_key(gwen, thread_id)
    gwen.post(f"/messages/{thread_id}", {"body": "Did you get this?", "idempotency_key": key})
    assert "Not read yet" in gwen.get(f"/messages/{thread_id}").get_data(as_text=True)

    tess = signed_in(new_browser, "t1@clinic.test")
    page = tess.get(f"/messages/{thread_id}").get_data(as_text=True)
    assert 'data-hx-trigger="load"' in page  # the page marks what it showed as read (a POST)
    seq = db_session.scalar(select(MessageThread.seq).where(MessageThread.id == thread_id))
    assert tess.htmx("POST", f"/messages/{thread_id}/read", {"seq": str(seq)}).status_code == 204

    assert "Read by Dr. Tess One" in gwen.get(f"/messages/{thread_id}").get_data(as_text=True)
    reply_key = compose_key(tess, thread_id)
    tess.post(f"/messages/{thread_id}", {"body": "Yes, got it.", "idempotency_key": reply_key})
    therapist_view = tess.get(f"/messages/{thread_id}").get_data(as_text=True)
    assert "Not read yet" in therapist_view
    gwen.htmx("POST", f"/messages/{thread_id}/read", {"seq": "99"})  # clamped to the last one
    assert "Read by Gwen One" in tess.get(f"/messages/{thread_id}").get_data(as_text=True)
    mark = db_session.scalars(
        select(ThreadRead)
        .where(ThreadRead.user_id == world.g1.id)
        .execution_options(populate_existing=True)
    ).one()
    assert mark.last_read_seq == 3


def test_unread_count_in_the_navigation(
    new_browser: Callable[[], Browser], world: World, threads: dict[str, int]
) -> None:
    gwen = signed_in(new_browser, "g1@family.test")
    page = gwen.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert re.search(
        r'Messages<span id="nav-unread"> <span class="count"><span aria-hidden="true">1</span>'
        r'<span class="visually-hidden">1 unread</span></span>',
        page,
    )
    gwen.htmx("POST", f"/messages/{threads['family_thread']}/read", {"seq": "1"})
    page = gwen.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert "1 unread" not in page and 'href="/messages"' in page


def _badges(page: str) -> tuple[str, str]:
    """The two navigation badges of a guardian's page: (My family, Messages)."""
    needs = re.search(r'<span id="nav-needs">(.*?)</span></a>', page)
    unread = re.search(r'<span id="nav-unread">(.*?)</span></a>', page)
    assert needs and unread, page
    return needs.group(1), unread.group(1)


def test_a_thread_page_does_not_count_the_messages_it_shows_as_unread(
    new_browser: Callable[[], Browser], world: World, threads: dict[str, int]
) -> None:
    """The page marks what it shows as read as it loads: its badges must not say "1 unread" about
    the message on the screen (out of hours, the automatic notice is such a message)."""
    gwen = signed_in(new_browser, "g1@family.test")
    family_needs, unread = _badges(gwen.get(f"/family/{world.case1.id}").get_data(as_text=True))
    assert "1 unread" in unread
    waiting = int(re.findall(r'class="count">(\d+)<', family_needs)[0])

    thread_page = gwen.get(f"/messages/{threads['family_thread']}").get_data(as_text=True)
    assert 'data-hx-trigger="load"' in thread_page  # it does mark the message read as it loads
    needs_here, unread_here = _badges(thread_page)
    assert "unread" not in unread_here
    assert (re.findall(r'class="count">(\d+)<', needs_here) or ["0"])[0] == str(waiting - 1)

    # Not read yet: any other page still says so (the POST above was never sent).
    _, still = _badges(gwen.get(f"/family/{world.case1.id}").get_data(as_text=True))
    assert "1 unread" in still
    # Paging back shows older messages and marks nothing read: the badge keeps the count.
    older = gwen.get(f"/messages/{threads['family_thread']}?before=99").get_data(as_text=True)
    assert "1 unread" in _badges(older)[1]


def count_queries(app: Flask, action: Callable[[], object]) -> list[str]:
    statements: list[str] = []
    engine = database.for_app(app).engine

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements


def test_a_poll_that_finds_nothing_new_costs_one_query_beyond_sign_in_and_answers_204(
    app: Flask, new_browser: Callable[[], Browser], db_session: Session, threads: dict[str, int]
) -> None:
    gwen = signed_in(new_browser, "g1@family.test")
    thread_id = threads["family_thread"]
    version = db_session.scalar(select(MessageThread.version).where(MessageThread.id == thread_id))
    url = f"/messages/{thread_id}/updates?v={version}"
    responses = []
    statements = count_queries(app, lambda: responses.append(gwen.client.get(url, headers=HTMX)))
    assert responses[0].status_code == 204
    assert responses[0].get_data() == b""
    # The signed-in session with its user (the gate, one join), then the thread's version.
    assert len(statements) == 2, statements
    assert "message_threads" in statements[-1]
    changed = gwen.client.get(f"/messages/{thread_id}/updates?v={version - 1}", headers=HTMX)
    assert changed.status_code == 200
    assert 'id="message-list"' in changed.get_data(as_text=True)
    assert "<html" not in changed.get_data(as_text=True)


def test_the_navigation_badge_costs_one_query(
    app: Flask, new_browser: Callable[[], Browser], world: World, threads: dict[str, int]
) -> None:
    gwen = signed_in(new_browser, "g1@family.test")
    url = f"/messages/{threads['family_thread']}"
    with_badge = count_queries(app, lambda: gwen.get(url))
    # For a guardian the unread count is one line of "What needs you": both badges, one query
    # (the statements that count past the read marks: the compose form's choices are a union
    # too, of goals, steps and practice entries).
    nav = [
        s
        for s in with_badge
        if "thread_reads" in s.lower()
        and ("count(distinct(message_threads.id))" in s.lower() or "union all" in s.lower())
    ]
    assert len(nav) == 1


def test_a_message_can_be_about_a_goal_of_the_same_case_only(
    app: Flask,
    new_browser: Callable[[], Browser],
    world: World,
    db_session: Session,
    threads: dict[str, int],
) -> None:
    plan1 = active_plan_for(app, db_session, world.t1, world.case1, world.g1, world.c1)
    plan2 = active_plan_for(app, db_session, world.t2, world.case2, world.g2, world.c2)
    goal1, goal2 = plan1.goals[0], plan2.goals[0]
    thread_id = threads["family_thread"]
    gwen = signed_in(new_browser, "g1@family.test")
    page = gwen.get(f"/messages/{thread_id}?about=goal:{goal1.id}").get_data(as_text=True)
    assert f'<option selected value="goal:{goal1.id}">' in page
    foreign = _send_about(gwen, thread_id, "About theirs", f"goal:{goal2.id}")
    assert foreign.status_code == 422
    ok = _send_about(gwen, thread_id, "About ours", f"goal:{goal1.id}")
    assert ok.status_code == 303
    stored = messages_in(db_session, thread_id)[-1]
    assert (stored.ref_type.value if stored.ref_type else None, stored.ref_id) == ("goal", goal1.id)
    shown = gwen.get(f"/messages/{thread_id}").get_data(as_text=True)
    assert f"about: Cody — goal: {goal1.child_text}" in shown


def _send_about(browser: Browser, thread_id: int, body: str, about: str) -> TestResponse:
    return browser.post(
        f"/messages/{thread_id}",
        {"body": body, "idempotency_key": str(uuid.uuid4()), "about": about},
    )


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
    gwen = signed_in(new_browser, "g1@family.test")
    sent = _send_about(gwen, thread_id, "About ours", f"goal:{goal.id}")
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


def test_office_hours_are_saved_and_shown_to_families(
    new_browser: Callable[[], Browser], world: World, db_session: Session, threads: dict[str, int]
) -> None:
    tess = signed_in(new_browser, "t1@clinic.test")
    assert tess.get("/messages/office-hours").status_code == 200
    bad = tess.post(
        "/messages/office-hours",
        {"office_days": ["1"], "opens_at": "17:00", "closes_at": "09:00", "reply_window_days": "2"},
    )
    assert bad.status_code == 422
    saved = tess.post(
        "/messages/office-hours",
        {
            "office_days": ["0", "2"],
            "opens_at": "08:00",
            "closes_at": "12:30",
            "reply_window_days": "1",
        },
    )
    assert saved.status_code == 303
    policy = db_session.scalars(select(ServicePolicy)).one()
    assert (policy.office_days, policy.opens_at, policy.closes_at) == (0b101, time(8), time(12, 30))
    page = signed_in(new_browser, "g1@family.test").get(f"/messages/{threads['family_thread']}")
    assert "Monday, Wednesday, 8:00 AM–12:30 PM" in page.get_data(as_text=True)


def test_reply_window_counts_office_days() -> None:
    from zoneinfo import ZoneInfo

    from portal.models import User

    zone = ZoneInfo("America/New_York")
    hours = Hours(User(display_name="Dr. T"))
    monday_10 = datetime(2026, 11, 23, 10, 0, tzinfo=zone)
    assert hours.reply_due(monday_10).date().isoformat() == "2026-11-25"  # Wednesday
    friday_evening = datetime(2026, 11, 27, 19, 0, tzinfo=zone)
    assert hours.reply_due(friday_evening).date().isoformat() == "2026-12-02"  # Mon + 2
    assert hours.in_hours(monday_10) and not hours.in_hours(friday_evening)
    saturday = datetime(2026, 11, 28, 11, 0, tzinfo=zone)
    assert not hours.in_hours(saturday)


def test_a_message_outside_office_hours_gets_an_automatic_notice_once(
    app: Flask, world: World, db_session: Session, threads: dict[str, int]
) -> None:
    thread = db_session.get(MessageThread, threads["family_thread"])
    assert thread is not None
    saturday = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)
    with services_on(app, db_session):
        post(world.g1, thread, world.case1, "Weekend question", now=saturday)
        post(world.g1, thread, world.case1, "And another", now=saturday + timedelta(minutes=5))
    kinds = [m.kind for m in messages_in(db_session, thread.id)]
    assert kinds.count(MessageKind.OUT_OF_HOURS) == 1
    notice = next(
        m for m in messages_in(db_session, thread.id) if m.kind is MessageKind.OUT_OF_HOURS
    )
    assert "outside Dr. Tess One's office hours" in notice.body and "988" in notice.body
    tuesday = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 10:00 in New York
    with services_on(app, db_session):
        post(world.g1, thread, world.case1, "In hours", now=tuesday)
    assert [m.kind for m in messages_in(db_session, thread.id)].count(MessageKind.OUT_OF_HOURS) == 1


def test_the_inbox_says_the_latest_message_is_an_automatic_notice_not_the_therapists(
    app: Flask,
    new_browser: Callable[[], Browser],
    world: World,
    db_session: Session,
    threads: dict[str, int],
) -> None:
    thread = db_session.get(MessageThread, threads["family_thread"])
    assert thread is not None
    with services_on(app, db_session):
        post(
            world.g1,
            thread,
            world.case1,
            "Weekend question",
            now=datetime(2026, 11, 28, 16, 0, tzinfo=UTC),
        )
    gwen = signed_in(new_browser, "g1@family.test")
    inbox = gwen.get("/messages").get_data(as_text=True)
    assert '<span class="muted">Automatic notice:</span> Your message arrived outside' in inbox
    assert "Dr. Tess One:</span> Your message" not in inbox
    world.g1.language = "es"
    db_session.flush()
    assert "Aviso automático:</span>" in gwen.get("/messages").get_data(as_text=True)


def test_the_read_mark_is_true_in_spanish_too(
    app: Flask,
    new_browser: Callable[[], Browser],
    world: World,
    db_session: Session,
    threads: dict[str, int],
) -> None:
    """The ✓ and the "not read" styling come from whether someone read the message, not from the
    English words: in Spanish, "Leído por …" was styled as not read and had no ✓."""
    thread_id = threads["family_thread"]
    world.g1.language = "es"
    db_session.flush()
    gwen = signed_in(new_browser, "g1@family.test")
    gwen.post(
        f"/messages/{thread_id}",
        {"body": "¿Lo recibió?", "idempotency_key": compose_key(gwen, thread_id)},
    )
    unread = gwen.get(f"/messages/{thread_id}").get_data(as_text=True)
    assert re.search(r'<p class="receipt not-read">Todavía no leído</p>', unread), unread
    tess = signed_in(new_browser, "t1@clinic.test")
    seq = db_session.scalar(select(MessageThread.seq).where(MessageThread.id == thread_id))
    assert tess.htmx("POST", f"/messages/{thread_id}/read", {"seq": str(seq)}).status_code == 204
    read = gwen.get(f"/messages/{thread_id}").get_data(as_text=True)
    assert re.search(
        r'<p class="receipt"><span aria-hidden="true">✓ </span>Leído por Dr. Tess One', read
    )
    assert "not-read" not in read


def test_the_out_of_hours_notice_is_written_in_the_senders_language(
    app: Flask, world: World, db_session: Session, threads: dict[str, int]
) -> None:
    """A guardian who reads Rapport in Spanish gets the automatic notice in Spanish (issue 8)."""
    thread = db_session.get(MessageThread, threads["family_thread"])
    assert thread is not None
    world.g1.language = "es"
    db_session.flush()
    saturday = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)
    with services_on(app, db_session):
        post(world.g1, thread, world.case1, "Pregunta del fin de semana", now=saturday)
    notice = next(
        m for m in messages_in(db_session, thread.id) if m.kind is MessageKind.OUT_OF_HOURS
    )
    assert "fuera del horario de oficina de Dr. Tess One" in notice.body
    assert "988" in notice.body and "office hours" not in notice.body


def test_replies_past_the_window_are_flagged_on_the_caseload(
    app: Flask,
    new_browser: Callable[[], Browser],
    world: World,
    db_session: Session,
    threads: dict[str, int],
) -> None:
    thread = db_session.get(MessageThread, threads["family_thread"])
    assert thread is not None
    tess = signed_in(new_browser, "t1@clinic.test")
    assert "awaiting your reply" not in tess.get("/caseload").get_data(as_text=True)
    with services_on(app, db_session):
        post(world.g1, thread, world.case1, "A question", now=datetime.now(UTC) - timedelta(days=9))
    page = tess.get("/caseload").get_data(as_text=True)
    assert '<span class="flag flag-bad">Reply overdue</span>' in page
    with services_on(app, db_session):
        post(world.t1, thread, world.case1, "Sorry for the wait!")
    overdue = '<span class="flag flag-bad">Reply overdue</span>'
    assert overdue not in tess.get("/caseload").get_data(as_text=True)
    with services_on(app, db_session):
        post(world.g1, thread, world.case1, "Thanks, one more thing")
    assert "1 awaiting your reply" in tess.get("/caseload").get_data(as_text=True)


def test_the_caseload_flags_cost_one_grouped_query_for_any_number_of_cases(
    app: Flask, world: World, in_app: Session, threads: dict[str, int]
) -> None:
    from portal.cases.queries import caseload_flags

    def run() -> None:
        caseload_flags([world.case1.id, world.case2.id])

    statements = count_queries(app, run)
    assert len([s for s in statements if "message_threads" in s]) == 1


def test_a_therapist_opens_household_and_teen_threads(
    app: Flask, new_browser: Callable[[], Browser], world: World, db_session: Session
) -> None:
    from tests.support.builders import teen_case

    case, _teen, _mum = teen_case(db_session, world)
    tess = signed_in(new_browser, "t1@clinic.test")
    page = tess.get(f"/cases/{case.id}/messages").get_data(as_text=True)
    assert "Open the teen thread with Tia" in page
    teen = tess.post(f"/cases/{case.id}/threads", {"kind": "teen"})
    assert teen.status_code == 303
    again = tess.post(f"/cases/{case.id}/threads", {"kind": "teen"})
    assert again.headers["Location"] == teen.headers["Location"]  # one teen thread per case
    young = tess.post(f"/cases/{world.case1.id}/threads", {"kind": "teen"})
    assert young.status_code == 303 and young.headers["Location"].endswith("/messages")
    household = tess.post(
        f"/cases/{world.case1.id}/threads", {"kind": "household", "guardian_id": world.g1.id}
    )
    assert household.status_code == 303
    assert db_session.scalar(select(func.count(MessageThread.id))) == 2


def test_messages_appear_in_order_with_gapless_numbers(
    app: Flask, world: World, db_session: Session, threads: dict[str, int]
) -> None:
    thread = db_session.get(MessageThread, threads["family_thread"])
    assert thread is not None
    with services_on(app, db_session), time_machine.travel(datetime(2026, 11, 24, 15, tzinfo=UTC)):
        for n in range(5):
            post(world.g1 if n % 2 else world.t1, thread, world.case1, f"line {n}")
    stored = messages_in(db_session, thread.id)
    assert [m.seq for m in stored] == list(range(1, 7))
    assert [m.body for m in stored[1:]] == [f"line {n}" for n in range(5)]


def test_a_failing_step_saves_nothing(
    app: Flask, world: World, db_session: Session, threads: dict[str, int], monkeypatch: object
) -> None:
    """RL-01: the message, its read mark and its outbox rows go together or not at all."""
    from portal.models import OutboxEmail

    thread = db_session.get(MessageThread, threads["family_thread"])
    assert thread is not None
    before = (
        len(messages_in(db_session, thread.id)),
        db_session.scalar(select(func.count(OutboxEmail.id))),
    )

    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("mail queue down")

    mp = pytest.MonkeyPatch()
    mp.setattr(services, "queue_email", boom)
    try:
        with app.test_request_context(), db.bound(db_session):
            with pytest.raises(RuntimeError):
                post(world.g1, thread, world.case1, "Lost?")
            db_session.rollback()
    finally:
        mp.undo()
    after = (
        len(messages_in(db_session, thread.id)),
        db_session.scalar(select(func.count(OutboxEmail.id))),
    )
    assert after == before
