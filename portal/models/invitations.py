"""Guardian invitations (single use, hashed, expiring) and the outgoing-mail outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow
from portal.models.cases import Case


class Invitation(Base):
    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    # Only the SHA-256 of the link's token is kept; the token itself lives in the email (AU-06).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    relationship_label: Mapped[str] = mapped_column(String(60))
    household: Mapped[str] = mapped_column(String(60))
    has_legal_authority: Mapped[bool] = mapped_column(Boolean)
    can_consent: Mapped[bool] = mapped_column(Boolean)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column()

    case: Mapped[Case] = relationship()

    def is_open(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > now


class OutboxEmail(Base):
    """Mail waits here until a sender delivers it, so a crash never loses or doubles one."""

    __tablename__ = "outbox_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    # Not before this time: a delayed notification, the next retry, or a sender's lease.
    send_after: Mapped[datetime | None] = mapped_column(index=True)
    # Made pointless before it went out (the message was read in time); never sent.
    cancelled_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(200))
