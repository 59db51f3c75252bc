"""The words shown for stored values (statuses, modes, informants), in the viewer's language.

Templates write `{{ case.status|label }}`; a value without a word here shows itself, capitalised.
Relationships and households are typed by the therapist; the usual ones ("Mother", "Dad's house")
are shown in the viewer's language with `{{ link.relationship_label|kin }}`, anything else as typed.
"""

from __future__ import annotations

import enum
import re

from flask_babel import LazyString

from portal.i18n import gettext
from portal.i18n import lazy_gettext as _l
from portal.stored_words import msgid_of

WORDS: dict[str, LazyString] = {
    # Role
    "Role.therapist": _l("Therapist"),
    "Role.guardian": _l("Parent or guardian"),
    "Role.child": _l("Child"),
    # CaseStatus
    "CaseStatus.intake": _l("Intake"),
    "CaseStatus.active": _l("Active"),
    "CaseStatus.paused": _l("Paused"),
    "CaseStatus.discharged": _l("Discharged"),
    # PlanStatus
    "PlanStatus.draft": _l("Draft"),
    "PlanStatus.proposed": _l("Proposed"),
    "PlanStatus.active": _l("Active"),
    "PlanStatus.superseded": _l("Superseded"),
    "PlanStatus.closed": _l("Closed"),
    # ProblemStatus
    "ProblemStatus.active": _l("Active"),
    "ProblemStatus.monitoring": _l("Monitoring"),
    "ProblemStatus.resolved": _l("Resolved"),
    "ProblemStatus.deferred": _l("Deferred"),
    # Informant
    "Informant.child": _l("Child"),
    "Informant.guardian": _l("Guardian"),
    "Informant.therapist": _l("Therapist"),
    # SessionStatus
    "SessionStatus.scheduled": _l("Scheduled"),
    "SessionStatus.held": _l("Held"),
    "SessionStatus.missed": _l("Missed"),
    "SessionStatus.cancelled": _l("Cancelled"),
    # SessionMode
    "SessionMode.in_person": _l("In person"),
    "SessionMode.video": _l("Video"),
    # StepStatus
    "StepStatus.locked": _l("Locked"),
    "StepStatus.available": _l("Open"),
    "StepStatus.practising": _l("Practising"),
    "StepStatus.mastered": _l("Mastered"),
    # ConsentAction
    "ConsentAction.granted": _l("Agreed"),
    "ConsentAction.revoked": _l("Withdrawn"),
    # DataRequestStatus
    "DataRequestStatus.pending": _l("Waiting for the clinic"),
    "DataRequestStatus.completed": _l("Completed"),
    # GoalOwner
    "GoalOwner.child": _l("The child's"),
    "GoalOwner.guardian": _l("The family's"),
    "GoalOwner.shared": _l("Shared"),
    # ResponseKind
    "ResponseKind.accept": _l("Accepted"),
    "ResponseKind.accept_with_comment": _l("Accepted with a comment"),
    "ResponseKind.request_changes": _l("Asked for changes"),
    "ResponseKind.assent": _l("The child's answer"),
    # AssentChoice
    "AssentChoice.yes": _l("Yes, let's try"),
    "AssentChoice.not_sure": _l("I'm not sure, but I'll try"),
    "AssentChoice.no": _l("Not yet"),
    # ThreadKind
    "ThreadKind.family": _l("Family thread"),
    "ThreadKind.household": _l("Household thread"),
    "ThreadKind.teen": _l("Teen thread"),
    # SuggestionStatus
    "SuggestionStatus.waiting": _l("Waiting"),
    "SuggestionStatus.approved": _l("Approved"),
    "SuggestionStatus.declined": _l("Declined"),
}


# Keys are the typed words, lower-cased, with the curly apostrophe made straight.
KIN_WORDS: dict[str, LazyString] = {
    "mother": _l("Mother"),
    "father": _l("Father"),
    "mom": _l("Mom"),
    "mum": _l("Mum"),
    "dad": _l("Dad"),
    "parent": _l("Parent"),
    "stepmother": _l("Stepmother"),
    "stepfather": _l("Stepfather"),
    "grandmother": _l("Grandmother"),
    "grandfather": _l("Grandfather"),
    "grandparent": _l("Grandparent"),
    "aunt": _l("Aunt"),
    "uncle": _l("Uncle"),
    "foster parent": _l("Foster parent"),
    "legal guardian": _l("Legal guardian"),
    "guardian": _l("Guardian"),
    "home": _l("Home"),
    "mum's house": _l("Mum's house"),
    "mom's house": _l("Mom's house"),
    "dad's house": _l("Dad's house"),
    "grandparents' house": _l("Grandparents' house"),
}


def _said(words: LazyString) -> str:
    """A word of the lists above in the reader's language, through the request's catalogue
    (issue 17: `str()` of a lazy string looks the catalogue up again, ~11 µs a word)."""
    return gettext(msgid_of(words))


def kin(typed: str | None) -> str:
    """A relationship or household as the viewer reads it: the usual words translated, the rest
    exactly as the therapist typed them."""
    if not typed:
        return ""
    words = KIN_WORDS.get(" ".join(typed.replace("\u2019", "'").split()).lower())
    if words is None:
        return typed
    said = _said(words)
    return said.lower() if typed.islower() else said


COACH_LABEL = re.compile(r"^(?P<name>.+) \((?P<household>[^()]+)\)$")


def named_kin(stored: str) -> str:
    """A name with a relationship or household in brackets, as stored for who helped with a
    practice ("Carla (Mum's house)") or typed for who reported a problem ("Ben (father)"): the
    bracket in the viewer's language."""
    found = COACH_LABEL.match(stored)
    return f"{found['name']} ({kin(found['household'])})" if found else stored


def label(value: enum.Enum | None) -> str:
    if value is None:
        return ""
    words = WORDS.get(f"{type(value).__name__}.{value.value}")
    return _said(words) if words is not None else str(value.value).replace("_", " ").capitalize()
