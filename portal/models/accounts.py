"""People and their sign-in: clinics, users and server-side sign-in sessions."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, enum_type, utcnow


class Role(enum.StrEnum):
    THERAPIST = "therapist"
    GUARDIAN = "guardian"
    CHILD = "child"


class Credential(enum.StrEnum):
    """How a person proves who they are: adults and teens a password, 8-12s a short PIN."""

    PASSWORD = "password"  # noqa: S105 - a kind of credential, not a secret
    PIN = "pin"
    NONE = "none"  # young children: child mode on a guardian's session only


class Clinic(Base):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'child' AND username IS NOT NULL) OR (role <> 'child' AND email IS NOT NULL)",
            name="sign_in_name",
        ),
        CheckConstraint("role = 'therapist' OR is_admin = false", name="admin_is_therapist"),
        CheckConstraint("role <> 'therapist' OR clinic_id IS NOT NULL", name="therapist_clinic"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[Role] = mapped_column(enum_type(Role, 16))
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinics.id"), index=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    username: Mapped[str | None] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    credential: Mapped[Credential] = mapped_column(
        enum_type(Credential, 16), default=Credential.PASSWORD
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Issue 13: appointment and practice reminders by email (off = none); the practice reminder
    # goes at this hour of the clinic's day, only when the week's practice is behind its target.
    reminders: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    practice_reminder_hour: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column()
    # Second factor (AU-08): a TOTP secret (base32), confirmed by a first code at enrolment, and the
    # last 30-second time step accepted, so a code works once.
    totp_secret: Mapped[str | None] = mapped_column(String(32))
    totp_enrolled_at: Mapped[datetime | None] = mapped_column()
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # The person's own language ("en", "es"); None follows the browser (portal/i18n.py).
    language: Mapped[str | None] = mapped_column(String(8))

    clinic: Mapped[Clinic | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active

    @property
    def is_therapist(self) -> bool:
        return self.role is Role.THERAPIST

    @property
    def is_guardian(self) -> bool:
        return self.role is Role.GUARDIAN

    @property
    def is_child(self) -> bool:
        return self.role is Role.CHILD

    @property
    def sign_in_name(self) -> str:
        return self.email or self.username or ""

    @property
    def needs_second_factor(self) -> bool:
        """Therapists and admins (admins are therapists) sign in with a TOTP code too (AU-08)."""
        return self.role is Role.THERAPIST


class AuthSession(Base):
    """One signed-in browser. The cookie carries only a random token whose hash is stored here,
    so signing out, changing a password or ending a guardian link can end it for good
    (SE-02, SE-06).
    """

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_open", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_active_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
    end_reason: Mapped[str | None] = mapped_column(String(40))
    # Set while a guardian has handed the device to a young child (child mode).
    child_mode_child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"))
    # Half signed in: the password was right, the second factor is still to come. Such a session
    # signs nobody in; only the second-step pages read it (AU-08).
    second_factor_pending: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # When the password was last typed in this session: sensitive changes want it recent (AU-05).
    password_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()


class AccountToken(Base):
    """A single-use link to set a password (new therapist) or reset one; only its hash is kept.
    Email-change links carry `address`: the new address a confirm link makes the sign-in, or the
    old one a cancel link keeps (portal/auth/email_change.py)."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    address: Mapped[str | None] = mapped_column(String(254))

    user: Mapped[User] = relationship()


class RecoveryCode(Base):
    """One of ten single-use codes that stand in for the authenticator app; only a hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column()
