"""The words shown for stored values (statuses, modes, informants), in the viewer's language.

Templates write `{{ case.status|label }}`; a value without a word here shows itself, capitalised.
"""

from __future__ import annotations

import enum

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

WORDS: dict[str, LazyString] = {
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
    # SuggestionStatus
    "SuggestionStatus.waiting": _l("Waiting"),
    "SuggestionStatus.approved": _l("Approved"),
    "SuggestionStatus.declined": _l("Declined"),
}


def label(value: enum.Enum | None) -> str:
    if value is None:
        return ""
    words = WORDS.get(f"{type(value).__name__}.{value.value}")
    return str(words) if words is not None else str(value.value).replace("_", " ").capitalize()
