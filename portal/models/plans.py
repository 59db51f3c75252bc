"""Case conceptualisation and the versioned treatment plan (DESIGN §3).

A plan version is immutable once proposed: editing makes a new draft. Goals keep a `lineage_key`
across versions so that progress ratings follow a goal through revisions.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, enum_type, utcnow
from portal.i18n import gettext as _
from portal.models.accounts import User


class ProblemDomain(enum.StrEnum):
    SEPARATION = "separation"
    SOCIAL = "social"
    SPECIFIC_PHOBIA = "specific_phobia"
    SCHOOL_AVOIDANCE = "school_avoidance"
    GENERALISED_WORRY = "generalised_worry"
    OCD = "ocd"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "separation": _("Separation"),
            "social": _("Social"),
            "specific_phobia": _("Specific fear"),
            "school_avoidance": _("School avoidance"),
            "generalised_worry": _("Worry"),
            "ocd": _("OCD"),
            "other": _("Other"),
        }[self.value]


class ProblemStatus(enum.StrEnum):
    ACTIVE = "active"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    DEFERRED = "deferred"


class Informant(enum.StrEnum):
    CHILD = "child"
    GUARDIAN = "guardian"
    THERAPIST = "therapist"


class Problem(Base):
    __tablename__ = "problems"
    __table_args__ = (Index("ix_problems_case_rank", "case_id", "priority_rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    child_words: Mapped[str] = mapped_column(String(300))
    clinical_words: Mapped[str] = mapped_column(String(300))
    domain: Mapped[ProblemDomain] = mapped_column(enum_type(ProblemDomain))
    reported_by: Mapped[str] = mapped_column(String(100))
    status: Mapped[ProblemStatus] = mapped_column(
        enum_type(ProblemStatus, 16), default=ProblemStatus.ACTIVE
    )
    priority_rank: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    severities: Mapped[list[ProblemSeverity]] = relationship(
        back_populates="problem", order_by="ProblemSeverity.id"
    )

    @property
    def is_current(self) -> bool:
        """Still worked on: active or being watched (not resolved, not put off)."""
        return self.status in (ProblemStatus.ACTIVE, ProblemStatus.MONITORING)

    def latest_severity(self) -> dict[Informant, ProblemSeverity]:
        latest: dict[Informant, ProblemSeverity] = {}
        for rating in self.severities:
            latest[rating.informant] = rating
        return latest


class ProblemSeverity(Base):
    """Severity 0-10 as one informant sees it; informants may disagree, and that is kept."""

    __tablename__ = "problem_severities"
    __table_args__ = (CheckConstraint("severity BETWEEN 0 AND 10", name="severity_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    informant: Mapped[Informant] = mapped_column(enum_type(Informant, 16))
    severity: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    problem: Mapped[Problem] = relationship(back_populates="severities")


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    PROPOSED = "proposed"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    CLOSED = "closed"


class PlanVersion(Base):
    __tablename__ = "plan_versions"
    __table_args__ = (
        UniqueConstraint("case_id", "number"),
        # At most one active and one open draft/proposal per case, enforced by the database.
        Index(
            "uq_plan_versions_one_active",
            "case_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index(
            "uq_plan_versions_one_open",
            "case_id",
            unique=True,
            sqlite_where=text("status IN ('draft', 'proposed')"),
            postgresql_where=text("status IN ('draft', 'proposed')"),
        ),
        CheckConstraint("review_interval_days BETWEEN 14 AND 365", name="review_interval"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[PlanStatus] = mapped_column(enum_type(PlanStatus, 16), default=PlanStatus.DRAFT)
    change_summary: Mapped[str] = mapped_column(Text, default="")
    review_interval_days: Mapped[int] = mapped_column(Integer, default=90)
    review_due_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime | None] = mapped_column()
    signed_off_at: Mapped[datetime | None] = mapped_column()
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    activated_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    # Optimistic lock: a save based on an older edit_version is refused (RL-03).
    edit_version: Mapped[int] = mapped_column(Integer, default=1)

    goals: Mapped[list[Goal]] = relationship(
        back_populates="plan", order_by="Goal.position", cascade="all, delete-orphan"
    )
    interventions: Mapped[list[Intervention]] = relationship(
        back_populates="plan", order_by="Intervention.position", cascade="all, delete-orphan"
    )
    responses: Mapped[list[PlanResponse]] = relationship(
        back_populates="plan", order_by="PlanResponse.id"
    )
    signed_off_by: Mapped[User | None] = relationship(foreign_keys=[signed_off_by_id])

    __mapper_args__ = {"version_id_col": edit_version}

    @property
    def is_editable(self) -> bool:
        return self.status is PlanStatus.DRAFT

    @property
    def is_proposed(self) -> bool:
        return self.status is PlanStatus.PROPOSED


class GoalOwner(enum.StrEnum):
    CHILD = "child"
    GUARDIAN = "guardian"
    SHARED = "shared"


goal_problems = Table(
    "goal_problems",
    Base.metadata,
    Column("goal_id", ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True),
    Column("problem_id", ForeignKey("problems.id"), primary_key=True),
)


class Goal(Base):
    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"), index=True)
    # The same goal across plan versions shares a lineage key; progress ratings hang off it.
    lineage_key: Mapped[str] = mapped_column(String(36), index=True)
    position: Mapped[int] = mapped_column(Integer)
    child_text: Mapped[str] = mapped_column(String(300))
    clinical_text: Mapped[str] = mapped_column(String(500))
    owner: Mapped[GoalOwner] = mapped_column(enum_type(GoalOwner, 16), default=GoalOwner.SHARED)
    edit_version: Mapped[int] = mapped_column(Integer, default=1)

    plan: Mapped[PlanVersion] = relationship(back_populates="goals")
    problems: Mapped[list[Problem]] = relationship(secondary=goal_problems, order_by="Problem.id")
    benchmarks: Mapped[list[Benchmark]] = relationship(
        back_populates="goal", order_by="Benchmark.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": edit_version}


class Benchmark(Base):
    """How we will know: a measure, a target and a date."""

    __tablename__ = "benchmarks"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    measure: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)

    goal: Mapped[Goal] = relationship(back_populates="benchmarks")


class Intervention(Base):
    __tablename__ = "interventions"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    what: Mapped[str] = mapped_column(String(300))
    who: Mapped[str] = mapped_column(String(100))
    how_often: Mapped[str] = mapped_column(String(100))

    plan: Mapped[PlanVersion] = relationship(back_populates="interventions")


class ResponseKind(enum.StrEnum):
    ACCEPT = "accept"
    ACCEPT_WITH_COMMENT = "accept_with_comment"
    REQUEST_CHANGES = "request_changes"
    ASSENT = "assent"


class AssentChoice(enum.StrEnum):
    YES = "yes"  # thumbs up / "Yes, let's try"
    NOT_SURE = "not_sure"  # thumbs sideways / "I'm not sure"
    NO = "no"  # thumbs down / "Not yet"


class PlanResponse(Base):
    """A guardian's acceptance (or request for changes) or the child's assent to one version."""

    __tablename__ = "plan_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"), index=True)
    kind: Mapped[ResponseKind] = mapped_column(enum_type(ResponseKind, 24))
    # The guardian who responded, or the child's own account; None for a young child's assent.
    responder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assent: Mapped[AssentChoice | None] = mapped_column(enum_type(AssentChoice, 16))
    comment: Mapped[str] = mapped_column(Text, default="")
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    on_behalf_of_child: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    plan: Mapped[PlanVersion] = relationship(back_populates="responses")
    responder: Mapped[User | None] = relationship(foreign_keys=[responder_id])
    entered_by: Mapped[User] = relationship(foreign_keys=[entered_by_id])


class GoalProgress(Base):
    """A 0-10 rating of how a goal is going, from the child, a guardian or the therapist."""

    __tablename__ = "goal_progress"
    __table_args__ = (
        CheckConstraint("value BETWEEN 0 AND 10", name="value_range"),
        Index("ix_goal_progress_case_lineage", "case_id", "lineage_key", "rated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    lineage_key: Mapped[str] = mapped_column(String(36))
    rater_role: Mapped[Informant] = mapped_column(enum_type(Informant, 16))
    rater_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    value: Mapped[int] = mapped_column(Integer)
    rated_at: Mapped[datetime] = mapped_column(default=utcnow)

    rater: Mapped[User | None] = relationship(foreign_keys=[rater_id])
