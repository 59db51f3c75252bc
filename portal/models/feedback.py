"""Therapy sessions, the family's feedback after them, weekly home check-ins and the alerts that
tell a therapist early when progress or the relationship slips (DESIGN §5).

Feedback items are our own check-in wording, not a validated questionnaire.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, enum_type, utcnow
from portal.i18n import gettext as _
from portal.models.accounts import User
from portal.stored_words import Words, WordsType, said


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    MISSED = "missed"
    CANCELLED = "cancelled"


class SessionMode(enum.StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"


class TherapySession(Base):
    __tablename__ = "therapy_sessions"
    __table_args__ = (Index("ix_therapy_sessions_case_when", "case_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    starts_at: Mapped[datetime] = mapped_column()
    mode: Mapped[SessionMode] = mapped_column(enum_type(SessionMode, 16))
    status: Mapped[SessionStatus] = mapped_column(enum_type(SessionStatus, 16))
    # Anyone else who came (an interpreter, a grandparent without a link), in the therapist's words.
    # Who of the care team attended is data: `attendance`.
    attendees: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    feedback: Mapped[list[SessionFeedback]] = relationship(
        back_populates="session", order_by="SessionFeedback.id"
    )
    attendance: Mapped[list[SessionAttendance]] = relationship(
        back_populates="session", order_by="SessionAttendance.id", cascade="all, delete-orphan"
    )

    def attended(self, respondent_key: str) -> bool:
        return any(row.attendee_key == respondent_key for row in self.attendance)


class SessionAttendance(Base):
    """One member of the care team at one session, and how they joined. Only people recorded here
    are asked about the session, and only their answers raise alerts (DESIGN §5, §10)."""

    __tablename__ = "session_attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "attendee_key"),
        CheckConstraint(
            "(guardian_id IS NULL) = (attendee_key LIKE 'child:%')", name="guardian_or_child"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("therapy_sessions.id"), index=True)
    # "guardian:<user id>" or "child:<child id>", the same key a feedback answer carries.
    attendee_key: Mapped[str] = mapped_column(String(40))
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    mode: Mapped[SessionMode] = mapped_column(enum_type(SessionMode, 16))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[TherapySession] = relationship(back_populates="attendance")
    guardian: Mapped[User | None] = relationship(foreign_keys=[guardian_id])


class Respondent(enum.StrEnum):
    GUARDIAN = "guardian"
    CHILD = "child"


class ChildScale(enum.StrEnum):
    FACES_3 = "faces3"  # 4-7
    FACES_5 = "faces5"  # 8-12
    ZERO_TEN = "zero_ten"  # 13-17


class SessionFeedback(Base):
    """One person's check-in after one held session. Guardians answer four items 0-10; the child
    answers one, on the scale of their age band, stored as given and as 0-10."""

    __tablename__ = "session_feedback"
    __table_args__ = (
        UniqueConstraint("session_id", "respondent_key"),
        Index("ix_session_feedback_case_created", "case_id", "created_at"),
        CheckConstraint("overall BETWEEN 0 AND 10", name="overall_range"),
        CheckConstraint("heard IS NULL OR heard BETWEEN 0 AND 10", name="heard_range"),
        CheckConstraint("matters IS NULL OR matters BETWEEN 0 AND 10", name="matters_range"),
        CheckConstraint("approach IS NULL OR approach BETWEEN 0 AND 10", name="approach_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("therapy_sessions.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    respondent: Mapped[Respondent] = mapped_column(enum_type(Respondent, 16))
    # "guardian:<user id>" or "child:<child id>": one answer per person per session.
    respondent_key: Mapped[str] = mapped_column(String(40))
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    on_behalf_of_child: Mapped[bool] = mapped_column(Boolean, default=False)
    heard: Mapped[int | None] = mapped_column(Integer)
    matters: Mapped[int | None] = mapped_column(Integer)
    approach: Mapped[int | None] = mapped_column(Integer)
    overall: Mapped[int] = mapped_column(Integer)
    child_scale: Mapped[ChildScale | None] = mapped_column(enum_type(ChildScale, 16))
    child_raw: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "You said, we did": the therapist's answer, shown to the guardian who wrote it.
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column()
    # "Read by …" is shown only from a recorded read: set when a therapist opens the feedback page.
    read_at: Mapped[datetime | None] = mapped_column()
    read_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # An answered form stays editable for a short while (EDIT_WINDOW); the last edit is kept here.
    edited_at: Mapped[datetime | None] = mapped_column()

    session: Mapped[TherapySession] = relationship(back_populates="feedback")
    guardian: Mapped[User | None] = relationship(foreign_keys=[guardian_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    read_by: Mapped[User | None] = relationship(foreign_keys=[read_by_id])

    def items(self) -> dict[str, int]:
        values = {
            "heard": self.heard,
            "matters": self.matters,
            "approach": self.approach,
            "overall": self.overall,
        }
        return {name: value for name, value in values.items() if value is not None}


class WeeklyCheckin(Base):
    __tablename__ = "weekly_checkins"
    __table_args__ = (
        UniqueConstraint("case_id", "guardian_id", "week_start"),
        CheckConstraint("practice_days BETWEEN 0 AND 7", name="practice_days_range"),
        CheckConstraint("difficulty BETWEEN 0 AND 10", name="difficulty_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    guardian_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    week_start: Mapped[date] = mapped_column(Date)  # the Monday of the week it is about
    practice_days: Mapped[int] = mapped_column(Integer)
    difficulty: Mapped[int] = mapped_column(Integer)
    accommodations: Mapped[str] = mapped_column(Text, default="")
    reducing: Mapped[str] = mapped_column(String(300), default="")
    observation: Mapped[str] = mapped_column(Text, default="")
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column()

    guardian: Mapped[User] = relationship()


class NoteMood(enum.StrEnum):
    GOOD = "good"
    MIXED = "mixed"
    HARD = "hard"

    @property
    def label(self) -> str:
        return {
            "good": _("Going well"),
            "mixed": _("Some good, some hard"),
            "hard": _("Hard at the moment"),
        }[self.value]


class FamilyNote(Base):
    """ "How is it going?": a few lines a guardian sends whenever they like, outside any session.
    The therapist reads, answers and resolves it like session feedback."""

    __tablename__ = "family_notes"
    __table_args__ = (Index("ix_family_notes_case_created", "case_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    guardian_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    mood: Mapped[NoteMood] = mapped_column(enum_type(NoteMood, 16))
    text: Mapped[str] = mapped_column(Text, default="")
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()
    read_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    guardian: Mapped[User] = relationship(foreign_keys=[guardian_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    read_by: Mapped[User | None] = relationship(foreign_keys=[read_by_id])


class AlertKind(enum.StrEnum):
    LOW_RATING = "low_rating"
    RATING_DROP = "rating_drop"
    NO_PRACTICE = "no_practice"
    FLAT_PROGRESS = "flat_progress"
    CHECKIN_OVERDUE = "checkin_overdue"

    @property
    def label(self) -> str:
        return {
            "low_rating": _("Low rating"),
            "rating_drop": _("Rating dropped"),
            "no_practice": _("No practice for 7 days"),
            "flat_progress": _("Goal progress flat"),
            "checkin_overdue": _("Check-in overdue"),
        }[self.value]


class CareAlert(Base):
    """An early warning on the caseload; `dedupe_key` stops a rule raising the same alert twice."""

    __tablename__ = "care_alerts"
    __table_args__ = (Index("ix_care_alerts_case_open", "case_id", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[AlertKind] = mapped_column(enum_type(AlertKind, 24))
    # The alert's sentence as stored words (portal/stored_words.py), said in the reader's
    # language: read it as `summary_text`. `summary` keeps the English wording of the time; it
    # is shown only for an old row whose words the migration could not recover.
    summary_words: Mapped[Words | None] = mapped_column(WordsType())
    summary: Mapped[str] = mapped_column(String(300))
    # What the alert points at: "feedback:<id>", "checkin:<id>", "goal:<lineage>", "case:<id>".
    evidence: Mapped[str] = mapped_column(String(80))
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution_note: Mapped[str] = mapped_column(Text, default="")

    @property
    def summary_text(self) -> str:
        """The alert in the reader's language."""
        return said(self.summary_words, self.summary)


class SessionAgenda(Base):
    """The therapist's short agenda for the next session with a case: private to the care
    team's therapists (DESIGN §7, therapist private notes); never shown to a family."""

    __tablename__ = "session_agendas"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    updated_by: Mapped[User] = relationship()
