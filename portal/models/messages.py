"""Secure messaging: threads of a case, their messages, who has read how far, the therapist's
service policy (office hours and reply window) and the unread-message notifications.

Who is in a thread is never stored: it follows from the case team, the thread's kind and the
guardian's link, so ending a link or removing a therapist ends access on the next request (AZ-09).
"""

from __future__ import annotations

import enum
from datetime import datetime, time

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, enum_type, utcnow
from portal.models.accounts import User

MAX_MESSAGE_LENGTH = 5000


class ThreadKind(enum.StrEnum):
    FAMILY = "family"  # all guardians with messaging rights and the therapists
    HOUSEHOLD = "household"  # one guardian and the therapists (separated parents)
    TEEN = "teen"  # a 13-17 child and the therapists; never the guardians


class MessageKind(enum.StrEnum):
    MESSAGE = "message"
    OUT_OF_HOURS = "out_of_hours"  # the automatic notice after a message outside office hours


class ReferenceType(enum.StrEnum):
    """What a message can point at; each kind is resolved (and checked against the thread's
    case) by portal.messages.references."""

    GOAL = "goal"
    LADDER_STEP = "ladder_step"
    PRACTICE_ATTEMPT = "practice_attempt"


class MessageThread(Base):
    __tablename__ = "message_threads"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'household') = (guardian_id IS NOT NULL)", name="household_has_guardian"
        ),
        CheckConstraint("seq >= 0 AND version >= 0", name="counters_not_negative"),
        # One family and one teen thread per case; one household thread per guardian.
        Index(
            "uq_message_threads_one_per_kind",
            "case_id",
            "kind",
            unique=True,
            sqlite_where=text("kind <> 'household'"),
            postgresql_where=text("kind <> 'household'"),
        ),
        UniqueConstraint("case_id", "guardian_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[ThreadKind] = mapped_column(enum_type(ThreadKind, 16))
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # seq numbers the messages (1, 2, 3 ...); version also moves when someone reads, so a poll
    # compares one integer to know whether anything changed.
    seq: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    last_message_at: Mapped[datetime | None] = mapped_column()
    # Set by the first unanswered family message, cleared by a therapist's reply.
    reply_due_at: Mapped[datetime | None] = mapped_column(index=True)

    guardian: Mapped[User | None] = relationship(foreign_keys=[guardian_id])


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("thread_id", "seq"),
        CheckConstraint(f"length(body) BETWEEN 1 AND {MAX_MESSAGE_LENGTH}", name="body_length"),
        CheckConstraint("(ref_type IS NULL) = (ref_id IS NULL)", name="reference_complete"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[MessageKind] = mapped_column(
        enum_type(MessageKind, 16), default=MessageKind.MESSAGE
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    ref_type: Mapped[ReferenceType | None] = mapped_column(enum_type(ReferenceType, 24))
    ref_id: Mapped[int | None] = mapped_column(Integer)
    # The compose form's server-issued key: a double-clicked send stores one message (RL-02).
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    thread: Mapped[MessageThread] = relationship()
    author: Mapped[User] = relationship()


class ThreadRead(Base):
    """How far one person has read one thread (read receipts and unread counts)."""

    __tablename__ = "thread_reads"
    __table_args__ = (UniqueConstraint("thread_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    last_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class MessageNotification(Base):
    """An unread-message email waiting in the outbox; reading the thread first cancels it."""

    __tablename__ = "message_notifications"
    __table_args__ = (Index("ix_message_notifications_thread_user", "thread_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("message_threads.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    outbox_email_id: Mapped[int] = mapped_column(ForeignKey("outbox_emails.id"), unique=True)


class ServicePolicy(Base):
    """A therapist's office hours and reply window; without a row the clinic defaults apply."""

    __tablename__ = "service_policies"
    __table_args__ = (
        CheckConstraint("office_days BETWEEN 1 AND 127", name="some_office_day"),
        CheckConstraint("opens_at < closes_at", name="opens_before_closing"),
        CheckConstraint("reply_window_days BETWEEN 1 AND 10", name="reply_window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    # Bit 0 = Monday ... bit 6 = Sunday.
    office_days: Mapped[int] = mapped_column(Integer, default=0b0011111)
    opens_at: Mapped[time] = mapped_column(Time, default=time(9, 0))
    closes_at: Mapped[time] = mapped_column(Time, default=time(17, 0))
    reply_window_days: Mapped[int] = mapped_column(Integer, default=2)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
