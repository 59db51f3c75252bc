"""The outbox: mail is queued in the caller's transaction and delivered later by a sender.

`queue_email` adds a row inside the caller's transaction, so a rolled-back change never sends
mail and a committed one never loses it. `send_due_emails` (run by `flask --app wsgi outbox-send`)
delivers over SMTP at least once: each row is leased before sending and marked sent after, and its
Message-ID is derived from the row's unique dedupe key, so a retry after a crash between "sent"
and "marked" carries the same Message-ID and mail systems drop the copy.

In development the message is also printed to the console, so a new user can follow an invitation
link without a mail server.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import or_, select, update

from portal import db
from portal.db import utcnow
from portal.models import OutboxEmail

if TYPE_CHECKING:
    import smtplib

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # a sender that died mid-send frees its row after this
MAX_ATTEMPTS = 8  # then the row waits for a person (last_error says why)


def queue_email(
    *, to: str, subject: str, body: str, dedupe_key: str, send_after: datetime | None = None
) -> OutboxEmail:
    email = OutboxEmail(
        to_address=to, subject=subject, body=body, dedupe_key=dedupe_key, send_after=send_after
    )
    db.session.add(email)
    if current_app.config.get("PRINT_OUTBOX"):
        # Development only: plain print, never the logger (tokens must not reach logs, AU-06).
        print(f"\n--- outbox: to {to} — {subject}\n{body}\n---", flush=True)
    return email


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    security: str  # "none", "starttls" or "ssl"
    sender: str
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Any) -> SmtpSettings:
        return cls(
            host=config["SMTP_HOST"],
            port=int(config["SMTP_PORT"]),
            username=config.get("SMTP_USER") or None,
            password=config.get("SMTP_PASSWORD") or None,
            security=config["SMTP_SECURITY"],
            sender=config["MAIL_FROM"],
        )


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def _due() -> Any:
    now = utcnow()
    return (
        OutboxEmail.sent_at.is_(None),
        OutboxEmail.cancelled_at.is_(None),
        OutboxEmail.attempts < MAX_ATTEMPTS,
        or_(OutboxEmail.send_after.is_(None), OutboxEmail.send_after <= now),
    )


def _claim_next() -> OutboxEmail | None:
    """Lease one due row to this sender (its own short transaction)."""
    stmt = select(OutboxEmail).where(*_due()).order_by(OutboxEmail.id).limit(1)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    email = db.session.scalars(stmt).first()
    if email is None:
        db.session.rollback()
        return None
    email.attempts += 1
    email.send_after = utcnow() + LEASE
    db.session.commit()  # commit point: the outbox takes its lease before sending
    return email


def _build(email: OutboxEmail, settings: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    domain = settings.sender.rpartition("@")[2] or "rapport.invalid"
    key = "".join(ch if ch.isalnum() or ch in "-." else "." for ch in email.dedupe_key)
    message["Message-ID"] = f"<{key}@{domain}>"
    message.set_content(email.body)
    return message


def _deliver(message: EmailMessage, settings: SmtpSettings) -> None:
    import smtplib  # the sender's (`flask outbox-send`), not every web worker's (issue 17)

    if settings.security == "ssl":
        context = ssl.create_default_context()
        with smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        ) as smtp:
            _login_and_send(smtp, message, settings)
        return
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        _login_and_send(smtp, message, settings)


def _login_and_send(smtp: smtplib.SMTP, message: EmailMessage, settings: SmtpSettings) -> None:
    if settings.username and settings.password:
        smtp.login(settings.username, settings.password)
    smtp.send_message(message)


def send_due_emails(settings: SmtpSettings, limit: int = 100) -> SendReport:
    """Deliver what is due, one row at a time; a failure schedules a retry with back-off."""
    import smtplib

    report = SendReport()
    for _ in range(limit):
        email = _claim_next()
        if email is None:
            break
        try:
            _deliver(_build(email, settings), settings)
        except (OSError, smtplib.SMTPException) as exc:
            report.failed += 1
            db.session.execute(
                update(OutboxEmail)
                .where(OutboxEmail.id == email.id)
                .values(
                    send_after=utcnow() + retry_delay(email.attempts),
                    last_error=f"{type(exc).__name__}: {str(exc)[:150]}",
                )
            )
            db.session.commit()  # commit point: the outbox records a failed attempt
            log.warning("outbox: email %s not sent (attempt %s)", email.id, email.attempts)
            continue
        db.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email.id)
            .values(sent_at=utcnow(), last_error=None)
        )
        db.session.commit()  # commit point: the outbox records the e-mail as sent
        report.sent += 1
    return report
