"""The outbox sender against a real local SMTP server (aiosmtpd): notifications go out only when a
message stays unread for ten minutes, without content, at least once, with retries, and a crash
between sending and marking does not make a second distinct email (same Message-ID)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message as Email
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.messages import services
from portal.models import MessageThread, OutboxEmail
from portal.ops import outbox
from portal.ops.outbox import SmtpSettings, send_due_emails
from tests.support.builders import F1_MESSAGE_SENTINEL, post
from tests.support.net import free_port
from tests.support.rows import World
from tests.support.session import services_on


class Inbox:
    def __init__(self) -> None:
        self.received: list[Email] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture()
def smtp() -> Iterator[tuple[Inbox, SmtpSettings]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield (
            inbox,
            SmtpSettings(
                "127.0.0.1", port, None, None, "none", "Rapport <no-reply@clinic.test>", 5
            ),
        )
    finally:
        controller.stop()


def post_from_g1(
    app: Flask, db_session: Session, world: World, thread_id: int, *, fresh: bool = True
) -> None:
    """G1 writes; T1 is the one waiting for an email. Older mail in the scene is put aside."""
    if fresh:
        db_session.execute(update(OutboxEmail).values(cancelled_at=utcnow()))
        db_session.commit()
    thread = db_session.get(MessageThread, thread_id)
    assert thread is not None
    with services_on(app, db_session):
        post(world.g1, thread, world.case1, f"Private words {F1_MESSAGE_SENTINEL}")


def pending(db_session: Session) -> list[OutboxEmail]:
    return list(
        db_session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.to_address == "t1@clinic.test")
            .execution_options(populate_existing=True)
        )
    )


def test_HP04_an_unread_message_is_mailed_after_ten_minutes_without_content(
    app: Flask,
    db_session: Session,
    world: World,
    threads: dict[str, int],
    smtp: Any,
    in_app: Session,
) -> None:
    inbox, settings = smtp
    post_from_g1(app, db_session, world, threads["family_thread"])
    assert send_due_emails(settings).sent == 0  # not yet: it may still be read in time
    with time_machine.travel(timedelta(minutes=11)):
        report = send_due_emails(settings)
        assert (report.sent, report.failed) == (1, 0)
        assert send_due_emails(settings).sent == 0  # sent once, never again
    [email] = inbox.received
    assert email["To"] == "t1@clinic.test"
    assert email["Subject"] == "You have a new message in Rapport"
    text = email.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert f"http://portal.test/messages/{threads['family_thread']}" in text
    assert "Private words" not in text and "SENTINEL" not in text
    assert pending(db_session)[0].sent_at is not None


def test_a_message_read_in_time_sends_no_email(
    app: Flask,
    db_session: Session,
    world: World,
    threads: dict[str, int],
    smtp: Any,
    in_app: Session,
) -> None:
    inbox, settings = smtp
    post_from_g1(app, db_session, world, threads["family_thread"])
    thread = db_session.get(MessageThread, threads["family_thread"])
    assert thread is not None
    services.do_mark_read(world.t1, thread, thread.seq)
    db_session.commit()
    with time_machine.travel(timedelta(minutes=30)):
        assert send_due_emails(settings).sent == 0
    assert inbox.received == []
    assert pending(db_session)[0].cancelled_at is not None


def test_several_messages_make_one_waiting_email_per_person(
    app: Flask, db_session: Session, world: World, threads: dict[str, int]
) -> None:
    for n in range(3):
        post_from_g1(app, db_session, world, threads["family_thread"], fresh=n == 0)
    assert len(pending(db_session)) == 1


def test_a_mail_server_that_is_down_is_retried_with_back_off(
    app: Flask,
    db_session: Session,
    world: World,
    threads: dict[str, int],
    smtp: Any,
    in_app: Session,
) -> None:
    inbox, settings = smtp
    post_from_g1(app, db_session, world, threads["family_thread"])
    down = SmtpSettings("127.0.0.1", free_port(), None, None, "none", settings.sender, 2)
    with time_machine.travel(timedelta(minutes=11)):
        report = send_due_emails(down)
        assert (report.sent, report.failed) == (0, 1)
        [row] = pending(db_session)
        assert row.attempts == 1 and row.sent_at is None and row.last_error
        assert send_due_emails(settings).sent == 0  # waits for its retry time
    with time_machine.travel(timedelta(minutes=13)):
        assert send_due_emails(settings).sent == 1
    assert len(inbox.received) == 1
    assert pending(db_session)[0].attempts == 2


def test_RL11_a_crash_after_sending_resends_with_the_same_message_id(
    app: Flask,
    db_session: Session,
    world: World,
    threads: dict[str, int],
    smtp: Any,
    in_app: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At least once: the worker dies after the server accepted the mail but before it marked the
    row; after the lease the mail goes again with the same Message-ID, so mail systems drop it."""
    inbox, settings = smtp
    post_from_g1(app, db_session, world, threads["family_thread"])
    real_deliver = outbox._deliver

    def deliver_then_die(message: Any, smtp_settings: SmtpSettings) -> None:
        real_deliver(message, smtp_settings)
        raise SystemExit("worker killed")

    with time_machine.travel(timedelta(minutes=11)):
        monkeypatch.setattr(outbox, "_deliver", deliver_then_die)
        with pytest.raises(SystemExit):
            send_due_emails(settings)
        monkeypatch.setattr(outbox, "_deliver", real_deliver)
        assert send_due_emails(settings).sent == 0  # leased: no second copy right away
    with time_machine.travel(timedelta(minutes=17)):
        assert send_due_emails(settings).sent == 1
        assert send_due_emails(settings).sent == 0
    assert len(inbox.received) == 2
    assert inbox.received[0]["Message-ID"] == inbox.received[1]["Message-ID"]


def test_the_outbox_send_command_delivers_over_smtp(
    app: Flask, db_session: Session, world: World, smtp: Any, make_app: Any
) -> None:
    inbox, settings = smtp
    with services_on(app, db_session):
        outbox.queue_email(
            to="g1@family.test", subject="Welcome", body="Hello", dedupe_key="cli-test-1"
        )
    worker = make_app({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": settings.port})
    result = worker.test_cli_runner().invoke(args=["outbox-send"])
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 failed" in result.output
    assert [m["Subject"] for m in inbox.received] == ["Welcome"]
