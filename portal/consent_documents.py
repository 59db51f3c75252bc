"""The consent documents families agree to, in our own plain words, with their versions.

A record stores the version it was given against, so a later wording change never rewrites what a
family agreed to. Each person reads the words in their own language (Flask-Babel); the Spanish
wording is ours too and, like the English, belongs to the version named here.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.i18n import lazy_gettext as _l
from portal.models import ConsentKind


@dataclass(frozen=True)
class ConsentDocument:
    kind: ConsentKind
    version: str
    title: str  # lazily translated: shown in the reader's language
    summary: str


CONSENT_DOCUMENTS: dict[ConsentKind, ConsentDocument] = {
    ConsentKind.TREATMENT: ConsentDocument(
        ConsentKind.TREATMENT,
        "treatment-2026-09",
        _l("Consent to treatment"),
        _l(
            "I agree that my child takes part in therapy with this clinic. I can ask questions at "
            "any time and I can withdraw my consent."
        ),
    ),
    ConsentKind.PORTAL_TERMS: ConsentDocument(
        ConsentKind.PORTAL_TERMS,
        "terms-2026-09",
        _l("Using Rapport"),
        _l(
            "I will keep my sign-in to myself. Rapport shows me my child's plan and progress; what "
            "I enter is seen by my child's therapists."
        ),
    ),
    ConsentKind.MESSAGING_POLICY: ConsentDocument(
        ConsentKind.MESSAGING_POLICY,
        "messaging-2026-09",
        _l("Messages are not for emergencies"),
        _l(
            "Messages are answered in office hours, usually within two business days. In an "
            "emergency I will call 911, 988 or my local emergency number."
        ),
    ),
    ConsentKind.PARENTAL_CONSENT_UNDER_13: ConsentDocument(
        ConsentKind.PARENTAL_CONSENT_UNDER_13,
        "parental-2026-09",
        _l("Permission for my child to use Rapport"),
        _l(
            "My child is under 13. I allow my child to use Rapport and the clinic to keep what my "
            "child enters, such as practice steps and ratings. I can review or delete it."
        ),
    ),
    ConsentKind.CHILD_ASSENT: ConsentDocument(
        ConsentKind.CHILD_ASSENT,
        "assent-2026-09",
        _l("The child agrees"),
        _l(
            "The child was told, in words they understand, what therapy is and agreed to take part."
        ),
    ),
}
