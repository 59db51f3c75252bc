"""Changes to messaging. Every `do_*` takes the actor explicitly, flushes and never commits: the
view commits once, so a message, its read marks and its outbox entries are saved together or
not at all (RL-01, RL-11)."""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import and_, select, update

from portal import db
from portal.db import utcnow
from portal.i18n import language_of
from portal.i18n import lazy_gettext as _l
from portal.messages.hours import reply_by_text
from portal.messages.queries import hours_of, primary_therapist, thread_members
from portal.messages.references import Reference
from portal.models import (
    Case,
    Message,
    MessageKind,
    MessageNotification,
    MessageThread,
    OutboxEmail,
    ServicePolicy,
    ThreadKind,
    ThreadRead,
    User,
)
from portal.models.messages import MAX_MESSAGE_LENGTH
from portal.ops.outbox import queue_email

NOTIFY_AFTER = timedelta(minutes=10)
NOTICE_EVERY = timedelta(hours=12)  # at most one out-of-hours notice per thread in this time
NOTIFICATION_SUBJECT = _l("You have a new message in Rapport")


class MessagingError(Exception):
    """A change the rules refuse; the message is for the person."""


class KeyReused(MessagingError):
    """The compose form's key was already used for a different message (RL-02: 422)."""


@dataclass
class Sent:
    message: Message
    duplicate: bool  # the same form arrived twice: nothing new was stored


def normalise_body(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def do_open_thread(
    actor: User, case: Case, kind: ThreadKind, guardian: User | None = None
) -> MessageThread:
    """The thread of this kind (and guardian) for the case, created if it does not exist yet."""
    stmt = select(MessageThread).where(MessageThread.case_id == case.id, MessageThread.kind == kind)
    if kind is ThreadKind.HOUSEHOLD:
        if guardian is None:
            raise MessagingError(_("Choose the guardian for the household thread."))
        stmt = stmt.where(MessageThread.guardian_id == guardian.id)
    thread = db.session.scalars(stmt).one_or_none()
    if thread is not None:
        return thread
    thread = MessageThread(
        case_id=case.id,
        kind=kind,
        guardian_id=guardian.id if kind is ThreadKind.HOUSEHOLD and guardian else None,
        created_by_id=actor.id,
        seq=0,
        version=0,
    )
    db.session.add(thread)
    db.session.flush()
    return thread


def do_send_message(
    actor: User,
    thread: MessageThread,
    case: Case,
    *,
    body: str,
    idempotency_key: str,
    reference: Reference | None = None,
    now: datetime | None = None,
) -> Sent:
    """Store a message in order, mark it read for its author, queue the delayed notifications of
    the other members, and answer out of office hours with a notice."""
    now = now or utcnow()
    body = normalise_body(body)
    if not body or len(body) > MAX_MESSAGE_LENGTH:
        raise MessagingError(
            _("A message is 1 to %(most)s characters.", most=format_decimal(MAX_MESSAGE_LENGTH))
        )
    # Take the thread's row lock first (SQLite: the whole database, BEGIN IMMEDIATE), so numbers
    # follow commit order and a second copy of this form waits here and then finds the first.
    db.session.refresh(thread, with_for_update=True)
    existing = db.session.scalars(
        select(Message).where(Message.idempotency_key == idempotency_key)
    ).one_or_none()
    if existing is not None:
        same = (
            existing.thread_id == thread.id
            and existing.author_id == actor.id
            and existing.body == body
            and existing.ref_id == (reference.ref_id if reference else None)
        )
        if not same:
            raise KeyReused("This form was already used for another message.")
        return Sent(existing, duplicate=True)

    message = _append(thread, actor, body, now, reference=reference, key=idempotency_key)
    _mark_read(thread, actor, thread.seq, now)
    members = thread_members(thread, case)
    _queue_notifications(thread, message, [m for m in members if m.id != actor.id], now)
    if actor.is_therapist:
        thread.reply_due_at = None
    else:
        therapist = primary_therapist(case)
        if therapist is not None:
            hours = hours_of(therapist)
            if thread.reply_due_at is None:
                thread.reply_due_at = hours.reply_due(now)
            if not hours.in_hours(now) and not _recent_notice(thread, now):
                due = hours.reply_due(now)
                # Stored once, so written in the sender's language (their saved choice, else
                # the language of the page they sent it from).
                with language_of(actor) if actor.language else nullcontext():
                    notice = _(
                        "Your message arrived outside %(name)s's office hours (%(hours)s). "
                        "Expect a reply by %(due)s. This inbox is not watched around the clock: "
                        "in an emergency call 911, or 988 (Suicide & Crisis Lifeline).",
                        name=therapist.display_name,
                        hours=hours.describe(),
                        due=reply_by_text(due, now, hours.zone),
                    )
                _append(
                    thread,
                    therapist,
                    notice,
                    now,
                    kind=MessageKind.OUT_OF_HOURS,
                    key=str(uuid.uuid4()),
                )
    db.session.flush()
    return Sent(message, duplicate=False)


def _append(
    thread: MessageThread,
    author: User,
    body: str,
    now: datetime,
    *,
    key: str,
    kind: MessageKind = MessageKind.MESSAGE,
    reference: Reference | None = None,
) -> Message:
    thread.seq += 1
    thread.version += 1
    thread.last_message_at = now
    message = Message(
        thread_id=thread.id,
        seq=thread.seq,
        kind=kind,
        author_id=author.id,
        body=body,
        ref_type=reference.ref_type if reference else None,
        ref_id=reference.ref_id if reference else None,
        idempotency_key=key,
        created_at=now,
    )
    db.session.add(message)
    return message


def _recent_notice(thread: MessageThread, now: datetime) -> bool:
    return (
        db.session.scalar(
            select(Message.id).where(
                Message.thread_id == thread.id,
                Message.kind == MessageKind.OUT_OF_HOURS,
                Message.created_at > now - NOTICE_EVERY,
            )
        )
        is not None
    )


def _queue_notifications(
    thread: MessageThread, message: Message, recipients: list[User], now: datetime
) -> None:
    """One content-free email per recipient and thread while one is already waiting (HP-04).
    It goes out only if the message is still unread after ten minutes."""
    recipients = [r for r in recipients if r.email]
    if not recipients:
        return
    db.session.flush()  # the message needs its id
    waiting = set(
        db.session.scalars(
            select(MessageNotification.user_id)
            .join(OutboxEmail, OutboxEmail.id == MessageNotification.outbox_email_id)
            .where(
                MessageNotification.thread_id == thread.id,
                MessageNotification.user_id.in_([r.id for r in recipients]),
                OutboxEmail.sent_at.is_(None),
                OutboxEmail.cancelled_at.is_(None),
            )
        )
    )
    # Built by hand: the demo loader and workers run outside a request. No content, only a link.
    link = f"{current_app.config['PORTAL_BASE_URL'].rstrip('/')}/messages/{thread.id}"
    for recipient in recipients:
        if recipient.id in waiting:
            continue
        with language_of(recipient):
            email = queue_email(
                to=recipient.email or "",
                subject=str(NOTIFICATION_SUBJECT),
                body=_(
                    "Hello,\n\nYou have a new message in Rapport.\n\nSign in to read it:\n"
                    "%(link)s\n\nRapport is not for emergencies. In a crisis call 911, or 988.\n",
                    link=link,
                ),
                dedupe_key=f"message:{message.id}:to:{recipient.id}",
                send_after=now + NOTIFY_AFTER,
            )
        db.session.flush()
        db.session.add(
            MessageNotification(
                thread_id=thread.id,
                user_id=recipient.id,
                message_id=message.id,
                outbox_email_id=email.id,
            )
        )


def do_mark_read(actor: User, thread: MessageThread, up_to_seq: int) -> bool:
    """Move the reader's mark forward (never back); True when it moved. Waiting notifications
    for this reader and thread are cancelled: they read it in time."""
    db.session.refresh(thread, with_for_update=True)  # version moves in commit order
    up_to_seq = min(up_to_seq, thread.seq)
    moved = _mark_read(thread, actor, up_to_seq, utcnow())
    if moved:
        thread.version += 1
        pending = select(MessageNotification.outbox_email_id).where(
            MessageNotification.thread_id == thread.id, MessageNotification.user_id == actor.id
        )
        db.session.execute(
            update(OutboxEmail)
            .where(
                and_(
                    OutboxEmail.id.in_(pending),
                    OutboxEmail.sent_at.is_(None),
                    OutboxEmail.cancelled_at.is_(None),
                )
            )
            .values(cancelled_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.session.flush()
    return moved


def _mark_read(thread: MessageThread, reader: User, seq: int, now: datetime) -> bool:
    mark = db.session.scalars(
        select(ThreadRead).where(ThreadRead.thread_id == thread.id, ThreadRead.user_id == reader.id)
    ).one_or_none()
    if mark is None:
        if seq <= 0:
            return False
        db.session.add(
            ThreadRead(thread_id=thread.id, user_id=reader.id, last_read_seq=seq, read_at=now)
        )
        return True
    if seq <= mark.last_read_seq:
        return False
    mark.last_read_seq = seq
    mark.read_at = now
    return True


def do_save_service_policy(
    actor: User, *, office_days: int, opens_at: time, closes_at: time, reply_window_days: int
) -> ServicePolicy:
    if not actor.is_therapist:
        raise MessagingError(_("Only therapists have office hours."))
    if not 1 <= office_days <= 127:
        raise MessagingError(_("Choose at least one office day."))
    if opens_at >= closes_at:
        raise MessagingError(_("Office hours must open before they close."))
    if not 1 <= reply_window_days <= 10:
        raise MessagingError(_("The reply window is 1 to 10 office days."))
    policy = db.session.scalars(
        select(ServicePolicy).where(ServicePolicy.therapist_id == actor.id)
    ).one_or_none()
    if policy is None:
        policy = ServicePolicy(therapist_id=actor.id)
        db.session.add(policy)
    policy.office_days = office_days
    policy.opens_at = opens_at
    policy.closes_at = closes_at
    policy.reply_window_days = reply_window_days
    policy.updated_at = utcnow()
    db.session.flush()
    return policy
