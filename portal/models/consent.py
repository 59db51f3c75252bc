"""Consent records: append-only. Revoking adds a row; nothing is ever edited (DESIGN §2)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, enum_type, utcnow
from portal.models.accounts import User


class ConsentKind(enum.StrEnum):
    TREATMENT = "treatment"
    PORTAL_TERMS = "portal_terms"
    MESSAGING_POLICY = "messaging_policy"
    PARENTAL_CONSENT_UNDER_13 = "parental_consent_under_13"
    CHILD_ASSENT = "child_assent"


class ConsentAction(enum.StrEnum):
    GRANTED = "granted"
    REVOKED = "revoked"


class ConsentMethod(enum.StrEnum):
    PORTAL = "portal"
    IN_PERSON = "in_person"
    PAPER = "paper"


class ConsentRecord(Base):
    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_case_kind", "case_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[ConsentKind] = mapped_column(enum_type(ConsentKind, 32))
    action: Mapped[ConsentAction] = mapped_column(enum_type(ConsentAction, 16))
    # Who gave (or withdrew) it: a guardian, or the child for assent.
    given_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    document_version: Mapped[str] = mapped_column(String(40))
    method: Mapped[ConsentMethod] = mapped_column(enum_type(ConsentMethod, 16))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    given_by: Mapped[User] = relationship(foreign_keys=[given_by_id])
