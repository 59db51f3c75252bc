"""Changes to the care team.

Each `do_*` takes the actor explicitly and flushes; the view commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select, update

from portal import audit, db
from portal.consent_documents import CONSENT_DOCUMENTS
from portal.db import utcnow
from portal.i18n import lazy_gettext as _l
from portal.models import (
    AuthSession,
    Case,
    CaseStatus,
    CaseTherapist,
    Child,
    ConsentAction,
    ConsentKind,
    ConsentMethod,
    ConsentRecord,
    Credential,
    GuardianLink,
    GuardianRestriction,
    Invitation,
    Role,
    User,
)
from portal.models.tasks import TaskKind
from portal.ops.outbox import queue_email
from portal.passwords import hash_secret
from portal.policies import today
from portal.security import end_all_sessions, token_hash
from portal.stored_words import N_, stored, word


class ServiceError(ValueError):
    """A request that the rules refuse; the message is shown to the person as it is."""


def do_open_case(
    actor: User, *, first_name: str, last_name: str, date_of_birth: date, concern: str
) -> Case:
    assert actor.is_therapist and actor.clinic_id is not None
    child = Child(
        clinic_id=actor.clinic_id,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        created_by_id=actor.id,
    )
    case = Case(
        clinic_id=actor.clinic_id,
        child=child,
        status=CaseStatus.INTAKE,
        presenting_concern=concern.strip(),
        opened_by_id=actor.id,
    )
    db.session.add_all([child, case])
    db.session.flush()
    db.session.add(
        CaseTherapist(case_id=case.id, therapist_id=actor.id, is_primary=True, added_by_id=actor.id)
    )
    db.session.flush()
    audit.record(
        db.session,
        action="create",
        actor=actor,
        child_id=child.id,
        object_type="case",
        object_id=case.id,
    )
    return case


@dataclass
class NewInvitation:
    invitation: Invitation
    link: str


def do_invite_guardian(
    actor: User,
    case: Case,
    *,
    email: str,
    relationship_label: str,
    household: str,
    has_legal_authority: bool,
    can_consent: bool,
) -> NewInvitation:
    email = email.strip().lower()
    if can_consent and not has_legal_authority:
        raise ServiceError(_("Only a guardian with legal authority can give consent."))
    already = [
        link
        for link in case.guardian_links
        if link.guardian.email == email and link.is_current(utcnow())
    ]
    if already:
        raise ServiceError(
            _(
                "%(email)s is already on %(first_name)s's care team.",
                email=email,
                first_name=case.child.first_name,
            )
        )
    token = secrets.token_urlsafe(32)
    now = utcnow()
    invitation = Invitation(
        case_id=case.id,
        email=email,
        token_hash=token_hash(token),
        relationship_label=relationship_label.strip(),
        household=household.strip() or "Home",
        has_legal_authority=has_legal_authority,
        can_consent=can_consent,
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + current_app.config["INVITATION_TTL"],
    )
    db.session.add(invitation)
    db.session.flush()
    link = current_app.config["PORTAL_BASE_URL"].rstrip("/") + url_for(
        "invitations.accept", token=token
    )
    # No clinical content in mail: not even the child's name (HP-04).
    queue_email(
        to=email,
        subject="You are invited to Rapport",
        body=(
            f"{actor.display_name} has invited you to join your family's care team on Rapport.\n\n"
            f"Open this link within 7 days to set up your account:\n{link}\n\n"
            "If you were not expecting this, you can ignore this email."
        ),
        dedupe_key=f"invitation:{invitation.id}",
    )
    return NewInvitation(invitation=invitation, link=link)


def find_open_invitation(token: str) -> Invitation | None:
    invitation = db.session.scalars(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    ).one_or_none()
    if invitation is None or not invitation.is_open(utcnow()):
        return None
    return invitation


def do_accept_invitation(
    invitation: Invitation,
    *,
    guardian: User | None,
    display_name: str,
    password: str | None,
    consents: set[ConsentKind],
) -> User:
    """Create (or reuse) the guardian's account, link them to the case, record their consent."""
    now = utcnow()
    if guardian is None:
        assert password is not None
        guardian = User(
            role=Role.GUARDIAN,
            email=invitation.email,
            display_name=display_name.strip(),
            credential=Credential.PASSWORD,
            password_hash=hash_secret(password),
            password_changed_at=now,
        )
        db.session.add(guardian)
        db.session.flush()
    existing = db.session.scalars(
        select(GuardianLink).where(
            GuardianLink.case_id == invitation.case_id, GuardianLink.guardian_id == guardian.id
        )
    ).one_or_none()
    link = existing or GuardianLink(
        case_id=invitation.case_id, guardian_id=guardian.id, created_by_id=invitation.invited_by_id
    )
    link.relationship_label = invitation.relationship_label
    link.household = invitation.household
    link.has_legal_authority = invitation.has_legal_authority
    link.can_consent = invitation.can_consent
    link.valid_from = now
    link.valid_to = None
    db.session.add(link)
    invitation.used_at = now
    invitation.used_by_id = guardian.id
    db.session.flush()
    _record_link(guardian, "guardian_link_grant", link.id, invitation.case.child_id)
    for kind in sorted(consents):
        do_record_consent(
            guardian, invitation.case, given_by=guardian, kind=kind, method=ConsentMethod.PORTAL
        )
    return guardian


def consent_kinds_for(link_can_consent: bool, child_age: int) -> list[ConsentKind]:
    """What a guardian is asked to agree to when they join."""
    kinds = [ConsentKind.PORTAL_TERMS, ConsentKind.MESSAGING_POLICY]
    if link_can_consent:
        kinds.insert(0, ConsentKind.TREATMENT)
        if child_age < 13:
            kinds.append(ConsentKind.PARENTAL_CONSENT_UNDER_13)
    return kinds


def do_record_consent(
    actor: User,
    case: Case,
    *,
    given_by: User,
    kind: ConsentKind,
    method: ConsentMethod,
    action: ConsentAction = ConsentAction.GRANTED,
    at: datetime | None = None,
) -> ConsentRecord:
    """Append a consent record. `at` is for records of the past (the demo clinic's families gave
    their consent when they joined, weeks ago); a person's own choice is always recorded now."""
    needs_authority = kind in (ConsentKind.TREATMENT, ConsentKind.PARENTAL_CONSENT_UNDER_13)
    if needs_authority:
        link = next(
            (lk for lk in case.guardian_links if lk.guardian_id == given_by.id and lk.can_consent),
            None,
        )
        if link is None:
            raise ServiceError(_("Only a guardian who can consent may give this consent."))
    record = ConsentRecord(
        case_id=case.id,
        kind=kind,
        action=action,
        given_by_id=given_by.id,
        document_version=CONSENT_DOCUMENTS[kind].version,
        method=method,
        recorded_by_id=actor.id,
        recorded_at=at or utcnow(),
    )
    db.session.add(record)
    db.session.flush()
    if action is ConsentAction.REVOKED:
        _withdrawal_takes_effect(actor, case, given_by, kind)
    elif kind is ConsentKind.TREATMENT:
        _treatment_given(case)
    return record


def _treatment_given(case: Case) -> None:
    """Treatment starts (intake → active), or a case paused by a withdrawal resumes once no
    guardian with authority still withholds it."""
    from portal.policies import consent_in_force

    if case.status in (CaseStatus.INTAKE, CaseStatus.PAUSED) and consent_in_force(
        case, ConsentKind.TREATMENT
    ):
        case.status = CaseStatus.ACTIVE


def _withdrawal_takes_effect(actor: User, case: Case, guardian: User, kind: ConsentKind) -> None:
    """What each withdrawal changes (DESIGN §9), from the next request on, and the caseload task
    that tells the therapist."""
    from portal.plans.services import add_task

    if kind is ConsentKind.TREATMENT and case.status in (CaseStatus.INTAKE, CaseStatus.ACTIVE):
        case.status = CaseStatus.PAUSED
    elif kind is ConsentKind.PARENTAL_CONSENT_UNDER_13:
        if case.child.user_id is not None:
            end_all_sessions(case.child.user_id, "parental consent withdrawn")
        db.session.execute(
            update(AuthSession)
            .where(AuthSession.child_mode_child_id == case.child_id)
            .values(child_mode_child_id=None)
        )
    elif kind is ConsentKind.PORTAL_TERMS:
        end_all_sessions(guardian.id, "portal terms withdrawn")
    if kind is ConsentKind.CHILD_ASSENT:
        return
    add_task(
        case,
        actor,
        TaskKind.CONSENT_WITHDRAWN,
        stored(
            N_("%(name)s withdrew: %(document)s"),
            name=guardian.display_name,
            document=word(CONSENT_DOCUMENTS[kind].title),
        ),
        stored(WITHDRAWAL_CONSEQUENCES[kind]),
    )
    db.session.flush()


# In plain words, what withdrawing each consent does: shown before the guardian confirms, and
# on the therapist's task afterwards.
WITHDRAWAL_CONSEQUENCES = {
    ConsentKind.TREATMENT: _l(
        "Therapy is paused. The therapist will not propose new plan versions, and will contact "
        "you to talk about it. Everything recorded so far stays readable for you and the care "
        "team. You can give your consent again at any time."
    ),
    ConsentKind.PARENTAL_CONSENT_UNDER_13: _l(
        "Your child can no longer use Rapport: their own sign-in and their screen on your device "
        "end now, and nothing new is collected from your child. What is already recorded stays "
        "in the record. You can give permission again at any time."
    ),
    ConsentKind.MESSAGING_POLICY: _l(
        "You leave the message threads: you will not see or send messages in Rapport. Past "
        "messages stay in the record. To rejoin, agree to this again."
    ),
    ConsentKind.PORTAL_TERMS: _l(
        "You are signed out now, on every device. The next time you sign in, you will be asked "
        "to agree again before you can continue."
    ),
    ConsentKind.CHILD_ASSENT: _l(
        "The child's agreement is recorded as withdrawn. The therapist will talk with the "
        "child about it."
    ),
}


def do_create_child_account(actor: User, case: Case, *, username: str, secret: str) -> User:
    """The child's own sign-in: a PIN for 8-12, a password for teens. Never self-registered."""
    username = username.strip().lower()
    taken = db.session.scalars(select(User.id).where(User.username == username)).first()
    if taken is not None:
        raise ServiceError(_("That username is taken. Try adding a number or an initial."))
    band_is_teen = case.child.age(today()) >= 13
    child_user = User(
        role=Role.CHILD,
        username=username,
        display_name=case.child.first_name,
        credential=Credential.PASSWORD if band_is_teen else Credential.PIN,
        password_hash=hash_secret(secret),
        password_changed_at=utcnow(),
    )
    db.session.add(child_user)
    db.session.flush()
    case.child.user_id = child_user.id
    db.session.flush()
    return child_user


def do_end_guardian_link(actor: User, link: GuardianLink) -> None:
    link.valid_to = utcnow()
    link.ended_by_id = actor.id
    # Their open sessions end now, not at the next idle timeout (SE-06, AZ-09).
    end_all_sessions(link.guardian_id, "guardian link ended")
    db.session.flush()
    _record_link(actor, "guardian_link_revoke", link.id, link.case.child_id)


def do_set_restriction(
    actor: User, case: Case, link: GuardianLink, restriction: GuardianRestriction
) -> None:
    """Set or lift a restriction on a guardian's link (e.g. a court order). A guardian kept to
    their own household gets a household thread with the therapists, so they can still write."""
    if link.restriction is restriction:
        return
    link.restriction = restriction
    db.session.flush()
    if restriction is GuardianRestriction.OWN_HOUSEHOLD_ONLY:
        from portal.messages.services import do_open_thread
        from portal.models.messages import ThreadKind

        do_open_thread(actor, case, ThreadKind.HOUSEHOLD, link.guardian)


def _record_link(actor: User, action: str, link_id: int, child_id: int) -> None:
    """LG-02: who may see a child's record changed."""
    audit.record(
        db.session,
        action=action,
        actor=actor,
        child_id=child_id,
        object_type="care_team_link",
        object_id=link_id,
    )


def do_add_therapist(actor: User, case: Case, *, email: str) -> CaseTherapist:
    email = email.strip().lower()
    colleague = db.session.scalars(
        select(User).where(
            User.email == email, User.role == Role.THERAPIST, User.clinic_id == case.clinic_id
        )
    ).one_or_none()
    if colleague is None:
        raise ServiceError(_("No therapist of this clinic has that email address."))
    existing = next((lk for lk in case.therapist_links if lk.therapist_id == colleague.id), None)
    if existing is not None and existing.is_current:
        raise ServiceError(
            _("%(display_name)s is already on this case.", display_name=colleague.display_name)
        )
    if existing is not None:
        existing.ended_at = None
        existing.ended_by_id = None
        link = existing
    else:
        link = CaseTherapist(case_id=case.id, therapist_id=colleague.id, added_by_id=actor.id)
        db.session.add(link)
    db.session.flush()
    _record_link(actor, "therapist_link_grant", link.id, case.child_id)
    return link


def do_remove_therapist(actor: User, link: CaseTherapist) -> None:
    current = [lk for lk in link.case.therapist_links if lk.is_current]
    if len(current) <= 1:
        raise ServiceError(_("A case needs at least one therapist."))
    link.ended_at = utcnow()
    link.ended_by_id = actor.id
    if link.is_primary:
        link.is_primary = False
        successor = next(lk for lk in current if lk.id != link.id)
        successor.is_primary = True
    db.session.flush()
    _record_link(actor, "therapist_link_revoke", link.id, link.case.child_id)
