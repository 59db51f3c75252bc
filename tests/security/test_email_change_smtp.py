"""A new sign-in address counts only once confirmed (AU-05, issue 13), proved through the real mail
path: the outbox sender delivers over SMTP to a local aiosmtpd server, and the test follows the
links in the mails as they arrived, in the language of the person they are written to."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session

from portal import db
from portal.db import utcnow
from portal.models import OutboxEmail
from portal.ops.outbox import SmtpSettings, send_due_emails
from tests.support.browser import Browser
from tests.support.net import free_port
from tests.support.rows import PASSWORD, World

OLD = "g1@family.test"
NEW = "gwen@new.test"
LINK = re.compile(r"http://portal\.test(/account/email/(confirm|cancel)/[A-Za-z0-9_-]+)")


class Inbox:
    def __init__(self) -> None:
        self.received: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.received.append(message)
        return "250 OK"

    def take(self) -> list[EmailMessage]:
        mails, self.received = self.received, []
        return mails


@pytest.fixture()
def mail(app: Flask, db_session: Session) -> Iterator[tuple[Inbox, Callable[[], int]]]:
    """The inbox of a real SMTP server, and `deliver()`: run the outbox sender once."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings = SmtpSettings("127.0.0.1", port, None, None, "none", "Rapport <no-reply@t.test>", 5)
    # Mail the scene queued before the test (invitations, notices) is not part of it.
    db_session.execute(
        update(OutboxEmail).where(OutboxEmail.sent_at.is_(None)).values(cancelled_at=utcnow())
    )
    db_session.commit()

    def deliver() -> int:
        with app.app_context(), db.bound(db_session):
            report = send_due_emails(settings)
        assert report.failed == 0
        return report.sent

    try:
        yield inbox, deliver
    finally:
        controller.stop()


def _text(mail: EmailMessage) -> str:
    body = mail.get_content()
    assert isinstance(body, str)
    return body


def _links(mail: EmailMessage) -> dict[str, str]:
    return {kind: path for path, kind in LINK.findall(_text(mail))}


def _by_recipient(mails: list[EmailMessage]) -> dict[str, EmailMessage]:
    recipients = [str(mail["To"]) for mail in mails]
    assert len(recipients) == len(set(recipients)), recipients  # one mail per address
    for mail in mails:
        assert mail["X-Envelope-To"] == mail["To"]  # delivered to that address only
    return dict(zip(recipients, mails, strict=True))


def _ask(browser: Browser, new: str) -> None:
    browser.login(OLD)
    browser.get("/account/email")
    assert browser.post("/account/email", {"email": new}).status_code == 302


def _signs_in(new_browser: Callable[[], Browser], address: str) -> bool:
    browser = new_browser()
    browser.get("/login")
    answer = browser.post("/login", {"email": address, "password": PASSWORD})
    return answer.status_code == 302


def test_a_spanish_reader_confirms_a_new_address_from_the_mail_it_received(
    new_browser: Callable[[], Browser],
    world: World,
    db_session: Session,
    mail: tuple[Inbox, Callable[[], int]],
) -> None:
    inbox, deliver = mail
    world.g1.language = "es"
    db_session.commit()
    _ask(new_browser(), NEW)
    assert deliver() == 2
    mails = _by_recipient(inbox.take())
    assert set(mails) == {NEW, OLD}

    confirmation, notice = mails[NEW], mails[OLD]
    # To the new address: the single-use confirmation link, in Gwen's language; nothing to cancel.
    assert confirmation["Subject"] == "Confirme su nueva dirección de correo para Rapport"
    assert _text(confirmation).startswith("Hola, Gwen One:")
    assert set(_links(confirmation)) == {"confirm"}
    # To the old address: who asked for what, and the way to cancel it.
    assert notice["Subject"] == "Alguien pidió cambiar su dirección de correo de Rapport"
    assert NEW in _text(notice) and "cancélelo con este enlace" in _text(notice)
    assert set(_links(notice)) == {"cancel"}
    for sent in (confirmation, notice):
        assert "Hello" not in _text(sent) and "Cody" not in _text(sent)

    # Until the link is followed, the old address is the sign-in and the new one is not.
    assert _signs_in(new_browser, OLD) and not _signs_in(new_browser, NEW)
    confirm = _links(confirmation)["confirm"]
    # Opened on a device whose browser asks for English, the page speaks the mail's language.
    stranger = new_browser()
    stranger.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-US,en;q=0.9"
    opened = stranger.get(confirm)  # opening it (a mail scanner) changes nothing
    assert opened.status_code == 200
    page = opened.get_data(as_text=True)
    assert '<html lang="es">' in page and "Confirmar esta dirección" in page
    assert "Confirm this address" not in page
    db_session.refresh(world.g1)
    assert world.g1.email == OLD

    followed = stranger.post(confirm)
    assert followed.headers["Location"] == "/login"
    db_session.refresh(world.g1)
    assert world.g1.email == NEW
    # The sign-in page it leads to, and its message, stay in Spanish on that browser.
    signed_out = stranger.get("/login").get_data(as_text=True)
    assert "De ahora en adelante, inicie sesión con él." in signed_out
    assert '<html lang="es">' in signed_out
    assert _signs_in(new_browser, NEW) and not _signs_in(new_browser, OLD)
    # Single use: the same link, followed again, is refused and changes nothing.
    assert stranger.post(confirm).status_code == 404
    assert stranger.get(confirm).status_code == 404

    # The change is told, over SMTP too: to the new address that it now signs in, and to the old
    # one that it was changed (its earlier link still undoes it), both in Spanish.
    assert deliver() == 2
    told = _by_recipient(inbox.take())
    assert set(told) == {NEW, OLD}
    assert all(mail["Subject"] == "Se cambió su cuenta de Rapport" for mail in told.values())
    assert f"se cambió a {NEW}" in _text(told[OLD])
    assert _links(told[OLD]) == {} and _links(told[NEW]) == {}
    assert deliver() == 0  # each mail once

    # Had it not been Gwen, the cancel link of the first notice still undoes the confirmed change:
    # the old address is the sign-in again and every device signed in with the new one is out.
    holder = new_browser()
    holder.login(NEW)
    assert holder.get(f"/family/{world.case1.id}").status_code == 200
    cancel = _links(notice)["cancel"]
    assert new_browser().post(cancel).headers["Location"] == "/login"
    db_session.refresh(world.g1)
    assert world.g1.email == OLD
    assert holder.get(f"/family/{world.case1.id}").headers["Location"].startswith("/login")
    assert _signs_in(new_browser, OLD) and not _signs_in(new_browser, NEW)


def test_the_cancel_link_in_the_notice_stops_the_change(
    new_browser: Callable[[], Browser],
    world: World,
    db_session: Session,
    mail: tuple[Inbox, Callable[[], int]],
) -> None:
    inbox, deliver = mail
    _ask(new_browser(), "thief@evil.test")
    assert deliver() == 2
    mails = _by_recipient(inbox.take())
    notice, confirmation = mails[OLD], mails["thief@evil.test"]
    assert notice["Subject"] == "Someone asked to change your Rapport email address"
    assert confirmation["Subject"] == "Confirm your new email address for Rapport"
    cancel, confirm = _links(notice)["cancel"], _links(confirmation)["confirm"]

    owner = new_browser()
    owner.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-MX,es;q=0.9"
    page = owner.get(cancel).get_data(as_text=True)
    # Gwen chose no language: the page follows the browser that opened it (Spanish here).
    assert "Cancelar el cambio de correo" in page and "Cancel the email change" not in page
    assert owner.post(cancel).headers["Location"] == "/login"
    assert owner.post(cancel).status_code == 404  # the cancel link is single use too
    thief = new_browser()
    assert thief.get(confirm).status_code == 404  # the waiting change is gone
    assert thief.post(confirm).status_code == 404
    db_session.refresh(world.g1)
    assert world.g1.email == OLD
    assert _signs_in(new_browser, OLD) and not _signs_in(new_browser, "thief@evil.test")
    assert deliver() == 0  # a cancelled request sends nothing more


def test_a_browser_that_chose_a_language_keeps_it_on_the_link_page(
    new_browser: Callable[[], Browser],
    world: World,
    db_session: Session,
    mail: tuple[Inbox, Callable[[], int]],
) -> None:
    inbox, deliver = mail
    world.g1.language = "es"
    db_session.commit()
    _ask(new_browser(), NEW)
    deliver()
    cancel = _links(_by_recipient(inbox.take())[OLD])["cancel"]
    chose_english = new_browser()
    chose_english.client.set_cookie("rapport_lang", "en")
    page = chose_english.get(cancel).get_data(as_text=True)
    assert "Cancel the email change" in page and "Cancelar el cambio" not in page
    answer = chose_english.post(cancel)
    assert answer.headers["Location"] == "/login"
    assert "rapport_lang=es" not in answer.headers.get("Set-Cookie", "")
    assert "The change is cancelled." in chose_english.get("/login").get_data(as_text=True)
