"""The care team: a child in treatment, their guardians and their therapists."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    SQLColumnExpression,
    String,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, enum_type, utcnow
from portal.i18n import gettext
from portal.models.accounts import User
from portal.stored_words import N_

# The first name a child's record keeps once its deletion is completed (CO-02): a msgid, said in
# the reader's language ("Child #12" / "Niño/a #12"); the last name is the neutral "#<id>".
REMOVED_FIRST_NAME = N_("Child")


def shown_first_name(stored: str, name_removed: bool) -> str:
    """A first name as read from the column (a query that selects it): the placeholder said in
    the reader's language when the child's name was removed."""
    return gettext(stored) if name_removed else stored


class AgeBand(enum.StrEnum):
    YOUNG = "young"  # 4-7: pictures, child mode on a guardian's device
    CHILD = "child"  # 8-12: username + PIN
    TEEN = "teen"  # 13-17: username + password

    @property
    def label(self) -> str:
        return {"young": "4–7", "child": "8–12", "teen": "13–17"}[self.value]

    @property
    def is_young(self) -> bool:
        return self is AgeBand.YOUNG

    @property
    def is_child(self) -> bool:
        return self is AgeBand.CHILD

    @property
    def is_teen(self) -> bool:
        return self is AgeBand.TEEN


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def age_band_for(age: int) -> AgeBand:
    if age <= 7:
        return AgeBand.YOUNG
    if age <= 12:
        return AgeBand.CHILD
    return AgeBand.TEEN


def therapist_link_current(ended_at: datetime | None) -> bool:
    """A therapist is on the case until their link ends (`CaseTherapist`, its plain row)."""
    return ended_at is None


def guardian_link_current(valid_from: datetime, valid_to: datetime | None, now: datetime) -> bool:
    """A guardian link holds from its start until its end (`GuardianLink`, its plain row)."""
    return valid_from <= now and (valid_to is None or valid_to > now)


class CaseStatus(enum.StrEnum):
    INTAKE = "intake"
    ACTIVE = "active"
    PAUSED = "paused"
    DISCHARGED = "discharged"


class GuardianRestriction(enum.StrEnum):
    NONE = "none"
    # e.g. a court order: sees the plan, not the other household's messages.
    OWN_HOUSEHOLD_ONLY = "own_household_only"


class Child(Base):
    __tablename__ = "children"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    # Read `first_name`: the column holds the name as typed, or REMOVED_FIRST_NAME (a msgid)
    # from `name_removed_at` on (words stored for later, docs/architecture.md).
    stored_first_name: Mapped[str] = mapped_column("first_name", String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    name_removed_at: Mapped[datetime | None] = mapped_column()
    date_of_birth: Mapped[date] = mapped_column(Date)
    # The child's own sign-in, created only after consent exists (CO-01, AU-09).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    @hybrid_property
    def first_name(self) -> str:
        return shown_first_name(self.stored_first_name, self.name_removed_at is not None)

    @first_name.inplace.setter
    def _first_name_setter(self, value: str) -> None:
        self.stored_first_name = value

    @first_name.inplace.expression
    @classmethod
    def _first_name_expression(cls) -> SQLColumnExpression[str]:
        return cls.stored_first_name  # queries compare and sort what is stored

    def remove_name(self, when: datetime) -> None:
        """Deletion completed: the name goes; what shows instead is said in each reader's
        language."""
        self.stored_first_name = REMOVED_FIRST_NAME
        self.last_name = f"#{self.id}"
        self.name_removed_at = when

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age(self, today: date) -> int:
        return age_on(self.date_of_birth, today)

    def age_band(self, today: date) -> AgeBand:
        return age_band_for(self.age(today))


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    status: Mapped[CaseStatus] = mapped_column(enum_type(CaseStatus, 16), default=CaseStatus.INTAKE)
    presenting_concern: Mapped[str] = mapped_column(String(200), default="")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    child: Mapped[Child] = relationship()
    therapist_links: Mapped[list[CaseTherapist]] = relationship(
        back_populates="case", order_by="CaseTherapist.id"
    )
    guardian_links: Mapped[list[GuardianLink]] = relationship(
        back_populates="case", order_by="GuardianLink.id"
    )


class CaseTherapist(Base):
    __tablename__ = "case_therapists"
    __table_args__ = (
        UniqueConstraint("case_id", "therapist_id"),
        Index("ix_case_therapists_therapist_open", "therapist_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    therapist_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None] = mapped_column()
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship(back_populates="therapist_links")
    therapist: Mapped[User] = relationship(foreign_keys=[therapist_id])

    @property
    def is_current(self) -> bool:
        return therapist_link_current(self.ended_at)


class GuardianLink(Base):
    __tablename__ = "guardian_links"
    __table_args__ = (
        UniqueConstraint("case_id", "guardian_id"),
        Index("ix_guardian_links_guardian_valid", "guardian_id", "valid_to"),
        CheckConstraint(
            "can_consent = false OR has_legal_authority = true", name="consent_needs_authority"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    guardian_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    relationship_label: Mapped[str] = mapped_column(String(60))
    has_legal_authority: Mapped[bool] = mapped_column(Boolean, default=True)
    can_consent: Mapped[bool] = mapped_column(Boolean, default=True)
    household: Mapped[str] = mapped_column(String(60), default="Home")
    restriction: Mapped[GuardianRestriction] = mapped_column(
        enum_type(GuardianRestriction, 32), default=GuardianRestriction.NONE
    )
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    valid_to: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship(back_populates="guardian_links")
    guardian: Mapped[User] = relationship(foreign_keys=[guardian_id])

    def is_current(self, now: datetime) -> bool:
        return guardian_link_current(self.valid_from, self.valid_to, now)
