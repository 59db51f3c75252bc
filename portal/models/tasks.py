"""Tasks on the therapist's caseload: things a family asked for that need an answer."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, enum_type, utcnow
from portal.models.accounts import User
from portal.stored_words import Words, WordsType, said


class TaskKind(enum.StrEnum):
    PLAN_CHANGES_REQUESTED = "plan_changes_requested"
    PLAN_COMMENT = "plan_comment"
    CHILD_NOT_READY = "child_not_ready"
    REVIEW_REQUESTED = "review_requested"
    PRIORITY_SUGGESTION = "priority_suggestion"
    CONSENT_WITHDRAWN = "consent_withdrawn"


class CaseTask(Base):
    __tablename__ = "case_tasks"
    __table_args__ = (Index("ix_case_tasks_case_open", "case_id", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[TaskKind] = mapped_column(enum_type(TaskKind, 32))
    # What the task is about, as stored words (portal/stored_words.py) said in the reader's
    # language: read `summary_text`. `summary` keeps the wording of the time (English), shown
    # only for an old row whose words were not recovered.
    summary_words: Mapped[Words | None] = mapped_column(WordsType())
    summary: Mapped[str] = mapped_column(String(200))
    # What the family wrote, as typed; or, when Python explains the task (a consent withdrawn),
    # `detail_words`. Read `detail_text`.
    detail_words: Mapped[Words | None] = mapped_column(WordsType())
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution_note: Mapped[str] = mapped_column(Text, default="")

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    @property
    def summary_text(self) -> str:
        """The task in the reader's language."""
        return said(self.summary_words, self.summary)

    @property
    def detail_text(self) -> str:
        return said(self.detail_words, self.detail)
