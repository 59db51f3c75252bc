"""All models, imported here so metadata is complete for Alembic and the tests."""

from portal.models.accounts import AccountToken, AuthSession, Clinic, Credential, Role, User
from portal.models.cases import (
    AgeBand,
    Case,
    CaseStatus,
    CaseTherapist,
    Child,
    GuardianLink,
    GuardianRestriction,
)
from portal.models.consent import ConsentAction, ConsentKind, ConsentMethod, ConsentRecord
from portal.models.invitations import Invitation, OutboxEmail

__all__ = [
    "AccountToken",
    "AgeBand",
    "AuthSession",
    "Case",
    "CaseStatus",
    "CaseTherapist",
    "Child",
    "Clinic",
    "ConsentAction",
    "ConsentKind",
    "ConsentMethod",
    "ConsentRecord",
    "Credential",
    "GuardianLink",
    "GuardianRestriction",
    "Invitation",
    "OutboxEmail",
    "Role",
    "User",
]
