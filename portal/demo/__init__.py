"""The Willow Street demo clinic: fictional people with fixed sign-ins (a contract; keep stable).

Ages are kept by computing birthdays from today, so Maya stays 6, Leo 10 and Sam 14.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import OperationalError

from portal import db
from portal.db import reading_only, utcnow
from portal.models import (
    Case,
    CaseStatus,
    CaseTherapist,
    Child,
    Clinic,
    ConsentKind,
    ConsentMethod,
    Credential,
    GuardianLink,
    Role,
    User,
)

DEMO_PASSWORD = "rapport-demo-2026"  # noqa: S105 - published demo sign-in, refused in production
LEO_PIN = "2468"
# The demo therapists' authenticator secret (AU-08), published in README like the password.
DEMO_TOTP_SECRET = "RAPPORTDEMOTOTP2"  # noqa: S105 - published demo sign-in, refused in production
DEMO_EMAIL_DOMAIN = "@demo.rapport.test"
CLINIC_NAME = "Willow Street Child & Family Clinic"

SIGN_INS = [
    "Dr. Rosa Rivera (therapist, clinic admin)  rivera@demo.rapport.test",
    "Dr. Kai Chen (therapist)                   chen@demo.rapport.test",
    "  (therapists: sign-in code from TOTP secret RAPPORTDEMOTOTP2, e.g. in an authenticator app)",
    "Ana Okafor (Maya's mother)                 ana@demo.rapport.test",
    "Ben Okafor (Maya's father)                 ben@demo.rapport.test",
    "Carla Martin (Leo's mother, Mum's house)   carla@demo.rapport.test",
    "David Martin (Leo's father, Dad's house)   david@demo.rapport.test  (in Spanish)",
    "Erin Patel (Sam's mother)                  erin@demo.rapport.test",
    "Leo Martin, 10                             username leo, PIN 2468",
    "Sam Patel, 14                              username sam",
    "Maya Okafor, 6: sign in as Ana, then “Open Maya's screen” (child mode)",
]


class DemoAccountsInProduction(RuntimeError):
    """Production refuses to start while the database holds the published demo sign-ins."""


def refuse_demo_accounts(engine: Engine) -> None:
    """AU-07: the demo clinic's people have a published password and authenticator secret.
    A production app refuses to start when its database holds any of them. A database that is
    not migrated yet (first deploy) or not reachable now is not blocked here."""
    try:
        with reading_only(), engine.connect() as connection:
            if not inspect(connection).has_table("users"):
                return
            found = connection.execute(
                select(User.email).where(User.email.like(f"%{DEMO_EMAIL_DOMAIN}")).limit(1)
            ).first()
    except OperationalError:
        logging.getLogger(__name__).warning("AU-07 demo-account check skipped: no database")
        return
    if found is not None:
        raise DemoAccountsInProduction(
            "The database holds the demo clinic's accounts (published sign-ins, e.g. "
            f"{found[0]}). Production refuses to start: use a fresh database (AU-07)."
        )


def _birthday(age: int, days_after_birthday: int) -> date:
    today = utcnow().date()
    last_birthday = today - timedelta(days=days_after_birthday)
    try:
        return last_birthday.replace(year=last_birthday.year - age)
    except ValueError:  # 29 February
        return last_birthday.replace(year=last_birthday.year - age, day=28)


def _adult(role: Role, email: str, name: str, clinic: Clinic | None, password_hash: str) -> User:
    user = User(
        role=role,
        clinic_id=clinic.id if clinic and role is Role.THERAPIST else None,
        email=email,
        display_name=name,
        credential=Credential.PASSWORD,
        password_hash=password_hash,
        password_changed_at=utcnow(),
    )
    if role is Role.THERAPIST:
        user.totp_secret = DEMO_TOTP_SECRET
        user.totp_enrolled_at = utcnow()
    db.session.add(user)
    return user


def enrol_demo_therapists() -> bool:
    """Give demo therapists from an older demo database the published authenticator secret."""
    therapists = db.session.scalars(
        select(User).where(
            User.role == Role.THERAPIST,
            User.email.like(f"%{DEMO_EMAIL_DOMAIN}"),
            User.totp_enrolled_at.is_(None),
        )
    ).all()
    for therapist in therapists:
        therapist.totp_secret = DEMO_TOTP_SECRET
        therapist.totp_enrolled_at = utcnow()
    return bool(therapists)


def load_demo_clinic() -> bool:
    """Create the demo clinic and each feature's demo history; False when nothing was missing."""
    from portal.demo.plans import load_demo_plans

    created = _load_people()
    created = enrol_demo_therapists() or created
    created = load_demo_plans() or created
    from portal.demo.ladders import load_demo_ladders

    created = load_demo_ladders() or created
    from portal.demo.feedback import load_demo_feedback

    created = load_demo_feedback() or created
    from portal.demo.messages import load_demo_messages

    created = load_demo_messages() or created
    from portal.demo.caseload import load_demo_caseload

    created = load_demo_caseload() or created
    from portal.demo.audit import load_demo_audit

    created = load_demo_audit() or created
    return created


def _load_people() -> bool:
    from portal.cases.services import do_create_child_account, do_record_consent
    from portal.passwords import hash_secret

    if db.session.scalars(select(Clinic.id).where(Clinic.name == CLINIC_NAME)).first():
        return False
    pw = hash_secret(DEMO_PASSWORD)
    clinic = Clinic(name=CLINIC_NAME, timezone="America/New_York")
    db.session.add(clinic)
    db.session.flush()
    rivera = _adult(Role.THERAPIST, "rivera@demo.rapport.test", "Dr. Rosa Rivera", clinic, pw)
    rivera.is_admin = True
    chen = _adult(Role.THERAPIST, "chen@demo.rapport.test", "Dr. Kai Chen", clinic, pw)
    guardians = {
        key: _adult(Role.GUARDIAN, f"{key}@demo.rapport.test", name, None, pw)
        for key, name in [
            ("ana", "Ana Okafor"),
            ("ben", "Ben Okafor"),
            ("carla", "Carla Martin"),
            ("david", "David Martin"),
            ("erin", "Erin Patel"),
        ]
    }
    # Issue 8: one family member reads Rapport in Spanish while Dr. Rivera and Carla use English.
    guardians["david"].language = "es"
    db.session.flush()

    def open_case(first: str, last: str, born: date, concern: str, primary: User) -> Case:
        child = Child(
            clinic_id=clinic.id,
            first_name=first,
            last_name=last,
            date_of_birth=born,
            created_by_id=primary.id,
        )
        case = Case(
            clinic_id=clinic.id,
            child=child,
            status=CaseStatus.INTAKE,
            presenting_concern=concern,
            opened_by_id=primary.id,
            opened_at=utcnow() - timedelta(days=60),
        )
        db.session.add_all([child, case])
        db.session.flush()
        db.session.add(
            CaseTherapist(
                case_id=case.id,
                therapist_id=primary.id,
                is_primary=True,
                added_by_id=primary.id,
                added_at=case.opened_at,
            )
        )
        return case

    # Each family joined the care team (and gave its consents) the day after the case opened,
    # weeks ago: every date a family reads agrees with the sessions and practice since then.
    joined = utcnow() - timedelta(days=59)

    def link(case: Case, guardian: User, relation: str, household: str) -> None:
        db.session.add(
            GuardianLink(
                case_id=case.id,
                guardian_id=guardian.id,
                relationship_label=relation,
                household=household,
                has_legal_authority=True,
                can_consent=True,
                created_by_id=case.opened_by_id,
                valid_from=joined,
            )
        )
        db.session.flush()
        db.session.refresh(case)
        kinds = [ConsentKind.TREATMENT, ConsentKind.PORTAL_TERMS, ConsentKind.MESSAGING_POLICY]
        if case.child.age(utcnow().date()) < 13:
            kinds.append(ConsentKind.PARENTAL_CONSENT_UNDER_13)
        for kind in kinds:
            do_record_consent(
                guardian,
                case,
                given_by=guardian,
                kind=kind,
                method=ConsentMethod.PORTAL,
                at=joined + timedelta(minutes=10),
            )

    maya = open_case("Maya", "Okafor", _birthday(6, 100), "Separation anxiety", rivera)
    link(maya, guardians["ana"], "Mother", "Home")
    link(maya, guardians["ben"], "Father", "Home")

    leo = open_case("Leo", "Martin", _birthday(10, 40), "Fear of dogs", rivera)
    link(leo, guardians["carla"], "Mother", "Mum's house")
    link(leo, guardians["david"], "Father", "Dad's house")
    do_create_child_account(guardians["carla"], leo, username="leo", secret=LEO_PIN)

    sam = open_case("Sam", "Patel", _birthday(14, 200), "Social anxiety", chen)
    link(sam, guardians["erin"], "Mother", "Home")
    do_create_child_account(guardians["erin"], sam, username="sam", secret=DEMO_PASSWORD)
    # The children's own agreement to take part (issue 13): Leo and Sam said yes on their own
    # screens; Maya, 6, is asked with the thumbs on Ana's device when she next opens her screen.
    for case in (leo, sam):
        assert case.child.user is not None
        case.child.user.created_at = joined + timedelta(minutes=20)
        do_record_consent(
            case.child.user,
            case,
            given_by=case.child.user,
            kind=ConsentKind.CHILD_ASSENT,
            method=ConsentMethod.PORTAL,
            at=joined + timedelta(days=1),
        )
    db.session.flush()
    return True
