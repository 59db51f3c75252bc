"""One case and its care team as plain rows (`portal.cases.plain` reads them): the attributes and
methods of `Case`, `Child`, `CaseTherapist` and `GuardianLink` that pages and the policies read,
with the same rules (issue 17: building the mapped objects for a page that changes none of them
was ~0.3 ms)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeAlias

from portal.models.accounts import Role
from portal.models.cases import (
    AgeBand,
    Case,
    CaseStatus,
    GuardianRestriction,
    age_band_for,
    age_on,
    guardian_link_current,
    therapist_link_current,
)


@dataclass(frozen=True, slots=True)
class ClinicZone:
    """A therapist's clinic as office hours read it (`Hours.zone`)."""

    timezone: str


@dataclass(frozen=True, slots=True)
class Named:
    """A person of the care team as the pages name them (`link.therapist`, `link.guardian`,
    `child.user`, a thread's members): `User`'s few columns they read."""

    id: int
    display_name: str
    role: Role
    username: str | None = None
    clinic: ClinicZone | None = None  # a therapist's, for their office hours

    @property
    def is_therapist(self) -> bool:
        return self.role is Role.THERAPIST

    @property
    def is_guardian(self) -> bool:
        return self.role is Role.GUARDIAN

    @property
    def is_child(self) -> bool:
        return self.role is Role.CHILD


@dataclass(frozen=True, slots=True)
class PlainChild:
    """`Child` as read: `first_name` as `Child.first_name` says it (the placeholder in the
    reader's language once the name was removed)."""

    id: int
    first_name: str
    last_name: str
    date_of_birth: date
    user_id: int | None
    user: Named | None  # the child's own sign-in

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age(self, today: date) -> int:
        return age_on(self.date_of_birth, today)

    def age_band(self, today: date) -> AgeBand:
        return age_band_for(self.age(today))


@dataclass(frozen=True, slots=True)
class PlainTherapistLink:
    """`CaseTherapist` as read."""

    id: int
    therapist_id: int
    is_primary: bool
    ended_at: datetime | None
    therapist: Named

    @property
    def is_current(self) -> bool:
        return therapist_link_current(self.ended_at)


@dataclass(frozen=True, slots=True)
class PlainGuardianLink:
    """`GuardianLink` as read."""

    id: int
    guardian_id: int
    relationship_label: str
    has_legal_authority: bool
    can_consent: bool
    household: str
    restriction: GuardianRestriction
    valid_from: datetime
    valid_to: datetime | None
    guardian: Named

    def is_current(self, now: datetime) -> bool:
        return guardian_link_current(self.valid_from, self.valid_to, now)


@dataclass(frozen=True, slots=True)
class PlainCase:
    """`Case` with its child and its whole team (the links in id order, as its relationships)."""

    id: int
    child_id: int
    status: CaseStatus
    child: PlainChild
    therapist_links: tuple[PlainTherapistLink, ...]
    guardian_links: tuple[PlainGuardianLink, ...]


# A case as the pages and the rules read it: the mapped one, or its plain rows.
AnyCase: TypeAlias = Case | PlainCase
