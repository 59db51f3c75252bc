"""Exposure practice (DESIGN §4): fear ladders, practice attempts, rewards, tokens and cheers.

Ladders hang off the case and a goal's `lineage_key`, never a goal row, so they survive plan
revisions. Fear ratings are stored canonically 0-100 with the value and scale the person used.
The token ledger is append-only (the migration adds a database trigger) and an award is never
negative: tokens are spent only through a redemption a guardian confirmed.

`CaseTally` and `StepDay` are running totals of the practice entries and the ledger, kept by
database triggers (issue 17): the child's tracker reads them instead of counting a history that
only grows.
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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, enum_type, utcnow
from portal.i18n import gettext as _
from portal.models.accounts import User


class StepStatus(enum.StrEnum):
    LOCKED = "locked"
    AVAILABLE = "available"
    PRACTISING = "practising"
    MASTERED = "mastered"


class FearScale(enum.StrEnum):
    FACES_3 = "faces3"  # 4-7: calm / a bit scared / very scared
    FACES_5 = "faces5"  # 8-12, alternative to the thermometer
    THERMOMETER_10 = "thermometer10"  # 8-12: fear thermometer 0-10
    NUMBER_10 = "number10"  # 13-17 and adults: 0-10

    @property
    def top(self) -> int:
        return {"faces3": 2, "faces5": 4, "thermometer10": 10, "number10": 10}[self.value]


class Completion(enum.StrEnum):
    FULL = "full"
    PARTIAL = "partial"
    STOPPED_EARLY = "stopped_early"

    @property
    def label(self) -> str:
        # One word translated, not all three (issue 17: lists of tries say it for every row).
        if self is Completion.FULL:
            return _("Did it all")
        if self is Completion.PARTIAL:
            return _("Did part of it")
        return _("Stopped early")


class Ladder(Base):
    __tablename__ = "ladders"
    __table_args__ = (
        Index("ix_ladders_case_lineage", "case_id", "goal_lineage_key"),
        CheckConstraint("mastery_peak_max BETWEEN 0 AND 10", name="mastery_peak_range"),
        CheckConstraint("mastery_days BETWEEN 1 AND 10", name="mastery_days_range"),
        CheckConstraint("weekly_target BETWEEN 1 AND 21", name="weekly_target_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    goal_lineage_key: Mapped[str] = mapped_column(String(36))
    title: Mapped[str] = mapped_column(String(120))
    # Mastery rule: the peak fear is at most `mastery_peak_max`/10 on `mastery_days` separate days.
    mastery_peak_max: Mapped[int] = mapped_column(Integer, default=2)
    mastery_days: Mapped[int] = mapped_column(Integer, default=3)
    weekly_target: Mapped[int] = mapped_column(Integer, default=4)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    retired_at: Mapped[datetime | None] = mapped_column()

    steps: Mapped[list[LadderStep]] = relationship(
        back_populates="ladder", order_by="LadderStep.position"
    )

    @property
    def active_steps(self) -> list[LadderStep]:
        return [step for step in self.steps if step.retired_at is None]


class LadderStep(Base):
    __tablename__ = "ladder_steps"
    __table_args__ = (CheckConstraint("fear_score BETWEEN 0 AND 100", name="fear_score_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ladder_id: Mapped[int] = mapped_column(ForeignKey("ladders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(120))
    picture: Mapped[str] = mapped_column(String(16), default="")
    instructions: Mapped[str] = mapped_column(Text, default="")
    # The therapist's current fear rating of the step, canonical 0-100; history in step_ratings.
    fear_score: Mapped[int] = mapped_column(Integer)
    status: Mapped[StepStatus] = mapped_column(enum_type(StepStatus, 16), default=StepStatus.LOCKED)
    mastered_at: Mapped[datetime | None] = mapped_column()
    status_overridden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    retired_at: Mapped[datetime | None] = mapped_column()

    ladder: Mapped[Ladder] = relationship(back_populates="steps")
    ratings: Mapped[list[StepRating]] = relationship(
        back_populates="step", order_by="StepRating.id"
    )

    @property
    def fear_rating(self) -> float:
        return self.fear_score / 10

    @property
    def is_locked(self) -> bool:
        return self.status is StepStatus.LOCKED

    @property
    def is_practising(self) -> bool:
        return self.status is StepStatus.PRACTISING

    @property
    def is_mastered(self) -> bool:
        return self.status is StepStatus.MASTERED


class StepRating(Base):
    """Every (re-)rating of a step, so the ladder's history is kept."""

    __tablename__ = "step_ratings"
    __table_args__ = (CheckConstraint("fear_score BETWEEN 0 AND 100", name="fear_score_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("ladder_steps.id"), index=True)
    fear_score: Mapped[int] = mapped_column(Integer)
    rated_at: Mapped[datetime] = mapped_column(default=utcnow)
    rated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    step: Mapped[LadderStep] = relationship(back_populates="ratings")


class PracticeAttempt(Base):
    """One try at a step: who entered it, for whom, the ratings and what the child learned."""

    __tablename__ = "practice_attempts"
    __table_args__ = (
        Index("ix_practice_attempts_case_practiced", "case_id", "practiced_at"),
        # Calm days per step were counted in this index alone (issue 17); they are now read from
        # `StepDay`, and the index is kept (a drop leaves free pages; see perf_practice_tallies).
        Index("ix_practice_attempts_step_calm", "step_id", "fear_peak", "practiced_at"),
        CheckConstraint("fear_before BETWEEN 0 AND 100", name="fear_before_range"),
        CheckConstraint("fear_peak BETWEEN 0 AND 100", name="fear_peak_range"),
        CheckConstraint("fear_after BETWEEN 0 AND 100", name="fear_after_range"),
        CheckConstraint("duration_minutes BETWEEN 0 AND 600", name="duration_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    step_id: Mapped[int] = mapped_column(ForeignKey("ladder_steps.id"), index=True)
    practiced_at: Mapped[datetime] = mapped_column(default=utcnow)
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    on_behalf_of_child: Mapped[bool] = mapped_column(Boolean, default=False)
    # RL-02: the form's server-issued key; the same key twice stores one attempt.
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    # Ratings, canonical 0-100, with the value as entered on `rating_scale`.
    rating_scale: Mapped[FearScale] = mapped_column(enum_type(FearScale, 16))
    fear_before: Mapped[int | None] = mapped_column(Integer)
    fear_before_raw: Mapped[int | None] = mapped_column(Integer)
    fear_peak: Mapped[int] = mapped_column(Integer)
    fear_peak_raw: Mapped[int] = mapped_column(Integer)
    fear_after: Mapped[int | None] = mapped_column(Integer)
    fear_after_raw: Mapped[int | None] = mapped_column(Integer)
    completion: Mapped[Completion] = mapped_column(enum_type(Completion, 16))
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    coach_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    coach: Mapped[str] = mapped_column(String(100), default="")
    prediction: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    # Whether what the child feared (the prediction) happened, as the therapist judged from the
    # two texts on "before the session": None until someone has said (issue 14).
    prediction_came_true: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    # A teen's "keep this note private from my parents": guardians never receive the note.
    note_private: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    step: Mapped[LadderStep] = relationship()
    entered_by: Mapped[User] = relationship(foreign_keys=[entered_by_id])
    cheers: Mapped[list[Cheer]] = relationship(back_populates="attempt", order_by="Cheer.id")


class Cheer(Base):
    """A sticker and a line of praise on a practice entry, for the child to see next time."""

    __tablename__ = "cheers"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("practice_attempts.id"), index=True)
    sticker: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(140))
    sent_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime | None] = mapped_column()

    attempt: Mapped[PracticeAttempt] = relationship(back_populates="cheers")
    sent_by: Mapped[User] = relationship()


class SuggestionStatus(enum.StrEnum):
    WAITING = "waiting"
    APPROVED = "approved"
    DECLINED = "declined"


class StepSuggestion(Base):
    """A child of 8+ or a guardian suggests a step; the therapist approves it into the ladder."""

    __tablename__ = "step_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    ladder_id: Mapped[int] = mapped_column(ForeignKey("ladders.id"))
    title: Mapped[str] = mapped_column(String(120))
    suggested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    on_behalf_of_child: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[SuggestionStatus] = mapped_column(
        enum_type(SuggestionStatus, 16), default=SuggestionStatus.WAITING
    )
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    step_id: Mapped[int | None] = mapped_column(ForeignKey("ladder_steps.id"))
    # When the person who suggested it saw the therapist's decision ("What needs you").
    decision_seen_at: Mapped[datetime | None] = mapped_column()

    ladder: Mapped[Ladder] = relationship()
    suggested_by: Mapped[User] = relationship(foreign_keys=[suggested_by_id])


class Reward(Base):
    """An item on the reward menu: chosen with the child, usable once a guardian approved it."""

    __tablename__ = "rewards"
    __table_args__ = (CheckConstraint("cost BETWEEN 1 AND 500", name="cost_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    picture: Mapped[str] = mapped_column(String(16), default="")
    cost: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column()
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])


class Redemption(Base):
    """The child asks for a reward; a guardian confirms it was given, which spends the tokens."""

    __tablename__ = "redemptions"
    __table_args__ = (CheckConstraint("cost BETWEEN 1 AND 500", name="cost_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"))
    cost: Mapped[int] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    on_behalf_of_child: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_at: Mapped[datetime | None] = mapped_column()
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    reward: Mapped[Reward] = relationship()
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])


class TokenKind(enum.StrEnum):
    EARNED = "earned"
    SPENT = "spent"


class TokenEntry(Base):
    """Append-only token ledger. Earned entries are positive and hang off a practice attempt;
    spent entries are negative and hang off a guardian-confirmed redemption. Nothing else."""

    __tablename__ = "token_entries"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'earned' AND amount > 0 AND attempt_id IS NOT NULL AND redemption_id IS NULL)"
            " OR (kind = 'spent' AND amount < 0 AND redemption_id IS NOT NULL"
            " AND attempt_id IS NULL)",
            name="earned_or_spent",
        ),
        Index("ix_token_entries_case", "case_id", "created_at"),
        # The jar's balance was summed in this index alone (issue 17); it is now read from
        # `CaseTally`, and the index is kept (see perf_practice_tallies).
        Index("ix_token_entries_case_amount", "case_id", "kind", "amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[TokenKind] = mapped_column(enum_type(TokenKind, 16))
    amount: Mapped[int] = mapped_column(Integer)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("practice_attempts.id"), unique=True)
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("redemptions.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(200))
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseTally(Base):
    """A case's running totals (issue 17): its practice entries and the tokens earned and spent,
    so the jar is one row read, whatever the length of the history.

    Kept by the database itself, not by the app: triggers on practice_attempts and token_entries
    (migration e7c1a4b2d9f3) add every inserted row in the same statement and transaction, and
    take back a deleted or moved one, so the totals agree with the rows whoever writes them
    (the practice form, a bulk load, the retention purge). Never written by the app."""

    __tablename__ = "case_tallies"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    practices: Mapped[int] = mapped_column(Integer)
    tokens_earned: Mapped[int] = mapped_column(Integer)
    tokens_spent: Mapped[int] = mapped_column(Integer)  # positive: the spent entries negated

    def __repr__(self) -> str:
        return f"<CaseTally case_id={self.case_id}>"


class StepDay(Base):
    """A step's practice on one UTC day, as the mastery rule counts it (issue 17): the lowest peak
    fear of the day's tries. A calm day is a row whose lowest peak is within the ladder's
    threshold, so the calm days are counted over the step's days in (step_id, lowest_peak), never
    over its entries, and a changed threshold applies to the past days at once.

    Kept by the same triggers as `CaseTally` (migration e7c1a4b2d9f3); never written by the app."""

    __tablename__ = "step_days"
    __table_args__ = (Index("ix_step_days_step_peak", "step_id", "lowest_peak"),)

    step_id: Mapped[int] = mapped_column(ForeignKey("ladder_steps.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # UTC, as calm days always were
    lowest_peak: Mapped[int] = mapped_column(Integer)  # canonical 0-100

    def __repr__(self) -> str:
        return f"<StepDay step_id={self.step_id} day={self.day}>"
