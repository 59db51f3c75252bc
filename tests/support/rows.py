"""Plain rows: realistic fictional families for tests, shaped like the fixtures of docs/security.md:
two families F1 (guardian G1, child C1, therapist T1) and F2 (G2, C2, T2), and a clinic admin A.
Private fields carry sentinel strings so leak tests can search whole responses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.consent_documents import CONSENT_DOCUMENTS
from portal.db import Base, utcnow
from portal.models import (
    Case,
    CaseStatus,
    CaseTherapist,
    Child,
    Clinic,
    ConsentAction,
    ConsentKind,
    ConsentMethod,
    ConsentRecord,
    Credential,
    GuardianLink,
    Role,
    User,
)
from tests.support.totp import TOTP_SECRET

PASSWORD = "correct horse battery 42"
PIN = "3579"
# The fixture accounts' secrets are argon2id hashes made with the lowest parameters argon2
# allows. Checking a password reads the parameters from the stored hash, so a test sign-in costs
# well under a millisecond instead of ~30 ms (about a thousand sign-ins a run). The app's own
# hasher and its OWASP parameters (AU-02) are untouched and tested on what the app writes; AU-04's
# timing test gives its account a hash the app made.
_FIXTURE_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_PASSWORD_HASH = _FIXTURE_HASHER.hash(PASSWORD)
_PIN_HASH = _FIXTURE_HASHER.hash(PIN)


def born_years_ago(age: int) -> date:
    today = utcnow().date()
    return date(today.year - age, 1, 1) if (today.month, today.day) >= (1, 1) else today


def make_user(
    session: Session,
    role: Role,
    name: str,
    *,
    email: str | None = None,
    username: str | None = None,
    clinic: Clinic | None = None,
    admin: bool = False,
    credential: Credential = Credential.PASSWORD,
) -> User:
    user = User(
        role=role,
        display_name=name,
        email=email,
        username=username,
        clinic_id=clinic.id if clinic else None,
        is_admin=admin,
        credential=credential,
        password_hash=_PIN_HASH if credential is Credential.PIN else _PASSWORD_HASH,
    )
    if role is Role.THERAPIST:
        user.totp_secret = TOTP_SECRET
        user.totp_enrolled_at = utcnow()
    session.add(user)
    session.flush()
    return user


def make_case(
    session: Session,
    clinic: Clinic,
    therapist: User,
    *,
    first: str,
    last: str,
    age: int,
    concern: str = "Worries at bedtime",
) -> Case:
    child = Child(
        clinic_id=clinic.id,
        first_name=first,
        last_name=last,
        date_of_birth=born_years_ago(age),
        created_by_id=therapist.id,
    )
    case = Case(
        clinic_id=clinic.id,
        child=child,
        status=CaseStatus.ACTIVE,
        presenting_concern=concern,
        opened_by_id=therapist.id,
    )
    session.add_all([child, case])
    session.flush()
    session.add(
        CaseTherapist(
            case_id=case.id, therapist_id=therapist.id, is_primary=True, added_by_id=therapist.id
        )
    )
    session.flush()
    return case


def link_guardian(
    session: Session,
    case: Case,
    guardian: User,
    *,
    household: str = "Home",
    relationship: str = "Mother",
    consent: bool = True,
    authority: bool = True,
) -> GuardianLink:
    """Link `guardian` to `case` since yesterday. With `consent` they have agreed to what a
    guardian of their standing is asked when joining: all four documents with `authority` (legal
    and consent authority), else the portal terms and the messaging policy only."""
    link = GuardianLink(
        case_id=case.id,
        guardian_id=guardian.id,
        relationship_label=relationship,
        household=household,
        has_legal_authority=authority,
        can_consent=authority,
        created_by_id=case.opened_by_id,
        valid_from=utcnow() - timedelta(days=1),
    )
    session.add(link)
    session.flush()
    if consent:
        own = (ConsentKind.PORTAL_TERMS, ConsentKind.MESSAGING_POLICY)
        for kind in (ConsentKind.TREATMENT, ConsentKind.PARENTAL_CONSENT_UNDER_13, *own):
            if kind not in own and not authority:
                continue
            session.add(
                ConsentRecord(
                    case_id=case.id,
                    kind=kind,
                    action=ConsentAction.GRANTED,
                    given_by_id=guardian.id,
                    recorded_by_id=guardian.id,
                    document_version=CONSENT_DOCUMENTS[kind].version,
                    method=ConsentMethod.PORTAL,
                )
            )
        session.flush()
    return link


def guardian_without_consent(session: Session, world: World) -> User:
    """G3, case1's grandmother (g3@family.test): a current link without legal or consent
    authority; she accepted the portal terms and the messaging policy."""
    g3 = make_user(session, Role.GUARDIAN, "Greta Three", email="g3@family.test")
    link_guardian(session, world.case1, g3, relationship="Grandmother", authority=False)
    session.commit()
    return g3


@dataclass
class World:
    clinic: Clinic
    admin: User
    t1: User
    t2: User
    g1: User
    g2: User
    c1: User
    c2: User
    case1: Case
    case2: Case
    link1: GuardianLink
    link2: GuardianLink


def build_world(session: Session) -> World:
    clinic = Clinic(name="Harbour Lane Family Therapy")
    session.add(clinic)
    session.flush()
    admin = make_user(
        session, Role.THERAPIST, "Dr. Ada Admin", email="a@clinic.test", clinic=clinic, admin=True
    )
    t1 = make_user(session, Role.THERAPIST, "Dr. Tess One", email="t1@clinic.test", clinic=clinic)
    t2 = make_user(session, Role.THERAPIST, "Dr. Theo Two", email="t2@clinic.test", clinic=clinic)
    g1 = make_user(session, Role.GUARDIAN, "Gwen One", email="g1@family.test")
    g2 = make_user(session, Role.GUARDIAN, "Gus Two", email="g2@family.test")
    c1 = make_user(session, Role.CHILD, "Cody", username="cody1", credential=Credential.PIN)
    c2 = make_user(session, Role.CHILD, "Cara", username="cara2", credential=Credential.PIN)
    case1 = make_case(session, clinic, t1, first="Cody", last="SENTINEL_F1_LASTNAME_7f3a", age=10)
    case2 = make_case(
        session,
        clinic,
        t2,
        first="Cara",
        last="SENTINEL_F2_LASTNAME_9b1c",
        age=9,
        concern="SENTINEL_F2_CONCERN_41d2",
    )
    case1.child.user_id = c1.id
    case2.child.user_id = c2.id
    link1 = link_guardian(session, case1, g1, household="SENTINEL_F1_HOUSEHOLD_aa01")
    link2 = link_guardian(session, case2, g2, household="SENTINEL_F2_HOUSEHOLD_bb02")
    session.commit()
    return World(clinic, admin, t1, t2, g1, g2, c1, c2, case1, case2, link1, link2)


def state_hash(db_session: Session, tables: tuple[str, ...]) -> str:
    """SHA-256 of the tables' rows in primary-key order ("DB unchanged")."""
    digest = hashlib.sha256()
    for name in tables:
        table = Base.metadata.tables[name]
        rows = db_session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest.update(f"{name}:{rows!r}".encode())
    return digest.hexdigest()
