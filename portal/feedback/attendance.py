"""Who of the care team can be recorded at a session, and reading the therapist's answer.

Each person gets one choice on the form: not there, in person or video. The form field of a person
is named from their attendance key, so what the therapist chose is kept when the form comes back
with an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _

from portal.db import utcnow
from portal.feedback.services import child_key, guardian_key
from portal.labels import kin
from portal.models import Case, SessionMode, TherapySession


@dataclass(frozen=True)
class Attendee:
    key: str
    name: str
    detail: str

    @property
    def field_name(self) -> str:
        return "attend-" + self.key.replace(":", "-")


def people_of(case: Case) -> list[Attendee]:
    """The child and every guardian with a current link: the people a session can name."""
    now = utcnow()
    people = [Attendee(child_key(case), case.child.first_name, _("the child"))]
    for link in case.guardian_links:
        if link.is_current(now):
            people.append(
                Attendee(
                    guardian_key(link.guardian_id),
                    link.guardian.display_name,
                    kin(link.relationship_label),
                )
            )
    return people


def chosen_from(form: Mapping[str, str], people: list[Attendee]) -> dict[str, str]:
    """What the form says for each person ("", "in_person" or "video"), as typed."""
    return {person.key: form.get(person.field_name, "") for person in people}


def chosen_of(session: TherapySession) -> dict[str, str]:
    return {row.attendee_key: row.mode.value for row in session.attendance}


def parse(chosen: dict[str, str]) -> tuple[dict[str, SessionMode], str | None]:
    """The attendance to store, or a message saying what is wrong."""
    attendance: dict[str, SessionMode] = {}
    for key, value in chosen.items():
        if not value:
            continue
        try:
            attendance[key] = SessionMode(value)
        except ValueError:
            return {}, _("Choose “not there”, “in person” or “video” for each person.")
    return attendance, None
