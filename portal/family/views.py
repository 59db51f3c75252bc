"""The guardian's family page, the child switcher, consent and handing over to child mode."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Response, abort, flash, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal import db
from portal.audit_trail import audited
from portal.cases.plain import plain_case_for
from portal.cases.queries import cases_for, require_case
from portal.cases.services import (
    WITHDRAWAL_CONSEQUENCES,
    ServiceError,
    consent_kinds_for,
    do_record_consent,
)
from portal.consent_documents import CONSENT_DOCUMENTS
from portal.family import bp
from portal.family.consent import terms_withdrawn_cases
from portal.family.forms import AgreeTermsForm, ConsentForm
from portal.family.needs import badge_needs, describe_all, needs_of
from portal.family.queries import (
    ConsentLine,
    child_tabs,
    consent_records_of,
    latest_practice,
)
from portal.feedback import services as feedback
from portal.feedback.queries import answered_feedback
from portal.i18n import gettext, moments
from portal.models import Case, ConsentAction, ConsentKind, ConsentMethod, ConsentRecord, User
from portal.policies import guardian_link_of, remember_consent_records, today
from portal.security import TERMS_DUE
from portal.session_state import current_auth_session
from portal.stored_words import msgid_of
from portal.web.htmx import render


@bp.app_context_processor
def _needs_badge() -> dict[str, Any]:
    """`needs_count()` is called by base.html only: the navigation badge counts exactly what the
    family page lists (the same cached query), less the unread messages a thread page is showing."""

    def needs_count() -> int:
        user = current_user._get_current_object()
        if not user.is_authenticated or not user.is_guardian:
            return 0
        return len(badge_needs(user))

    return {"needs_count": needs_count}


@bp.get("/family")
@audited("read")
def home() -> Response:
    cases = cases_for(current_user)
    if cases:
        return redirect(url_for("family.case_page", case_id=cases[0].id))  # type: ignore[return-value]
    return render("family/no_children.html")


def _family_page(
    case_id: int, *, consent_form: ConsentForm | None = None, status: int = 200
) -> Response:
    # This case with its whole team and the child's sign-in in one statement of plain rows
    # (another family's case is a 404 as everywhere); the child switcher needs only each case's
    # id and child's name.
    user: User = current_user._get_current_object()  # read here a dozen times (issue 17)
    case = plain_case_for(user, case_id)
    tabs = child_tabs(user)
    link = guardian_link_of(user, case)
    assert link is not None
    kinds = consent_kinds_for(link.can_consent, case.child.age(today()))
    records = consent_records_of(case)
    # The same records, oldest first, answer the page's own checks (child mode, sign-in).
    remember_consent_records(case, records[::-1])
    needs = needs_of(user)
    # The Check-ins tab counts what waits on that page: session check-ins and the weekly one.
    waiting = sum(
        1 for need in needs if need.kind in ("session", "weekly") and need.case_id == case.id
    )
    answered = answered_feedback(case.id, user.id, limit=3)
    # Each document's title in the reader's language, looked up once (the page names them up to
    # three times each).
    titles = {kind: gettext(msgid_of(doc.title)) for kind, doc in CONSENT_DOCUMENTS.items()}
    form = consent_form or ConsentForm(formdata=None)
    form.kind.choices = [SelectChoice(k.value, titles[k]) for k in kinds]
    return render(
        "family/family.html",
        case=case,
        link=link,
        all_cases=tabs,
        consent_records=records,
        my_consents=_my_consents(records, kinds, user.id),
        child_assent=next((r for r in records if r.kind is ConsentKind.CHILD_ASSENT), None),
        consent_form=form,
        titles=titles,
        next_session_at=feedback.next_session_start(case),
        feedback_waiting=waiting,
        needs=describe_all(needs, {tab.id: tab.first_name for tab in tabs}),
        needs_by_case={tab.id: sum(1 for n in needs if n.case_id == tab.id) for tab in tabs},
        answered_feedback=answered,
        latest_practice=latest_practice(case, limit=3),
        # The consent records' moments and the practice entries' days, as the `local` filter
        # writes them (datetime, weekday), the zone and language looked up once for the list.
        moment=moments(),
        weekday=moments("weekday"),
        status=status,
    )


def _my_consents(
    records: Sequence[ConsentLine], kinds: list[ConsentKind], guardian_id: int
) -> list[tuple[ConsentKind, ConsentLine | None]]:
    """Per document this guardian answers: their latest record (newest first in `records`)."""
    latest: dict[ConsentKind, ConsentLine] = {}
    for record in records:
        if record.given_by_id == guardian_id:
            latest.setdefault(record.kind, record)
    return [(kind, latest.get(kind)) for kind in kinds]


@bp.get("/family/<int:case_id>")
@audited("read", case="case_id")
def case_page(case_id: int) -> Response:
    return _family_page(case_id)


def _own_consent_case(case_id: int) -> tuple[Case, list[ConsentKind]]:
    """The guardian's case (404 otherwise) and the documents this guardian answers for it."""
    case = require_case(case_id, "case.record_own_consent")
    link = guardian_link_of(current_user, case)
    assert link is not None  # the rule above asked for it
    return case, consent_kinds_for(link.can_consent, case.child.age(today()))


@bp.post("/family/<int:case_id>/consent")
@audited("create", case="case_id")
def record_consent(case_id: int) -> Response:
    case, kinds = _own_consent_case(case_id)
    form = ConsentForm()
    form.kind.choices = [SelectChoice(k.value, CONSENT_DOCUMENTS[k].title) for k in kinds]
    withdrawing = form.action.data == ConsentAction.REVOKED.value
    if form.validate_on_submit() and withdrawing and form.confirm.data != "yes":
        # First the consequence in plain words, then the person confirms (DESIGN §9).
        return _confirm_withdrawal(case, ConsentKind(form.kind.data))
    if form.validate_on_submit():
        try:
            do_record_consent(
                current_user,
                case,
                given_by=current_user,
                kind=ConsentKind(form.kind.data),
                method=ConsentMethod.PORTAL,
                action=ConsentAction(form.action.data),
            )
        except ServiceError as exc:
            form.kind.errors = [str(exc)]
        else:
            db.session.commit()  # commit point: the view's change
            if withdrawing and form.kind.data == ConsentKind.PORTAL_TERMS.value:
                # Signed out on every device, this one too: the next sign-in asks again.
                session.clear()
                flash(
                    _("You withdrew your agreement and are signed out. Sign in to agree again."),
                    "success",
                )
                return redirect(url_for("auth.login"), 303)  # type: ignore[return-value]
            flash(_("Your choice is recorded."), "success")
            return redirect(url_for("family.case_page", case_id=case.id), 303)  # type: ignore[return-value]
    return _family_page(case_id, consent_form=form, status=422)


def _confirm_withdrawal(case: Case, kind: ConsentKind) -> Response:
    return render(
        "family/withdraw.html",
        case=case,
        document=CONSENT_DOCUMENTS[kind],
        consequence=WITHDRAWAL_CONSEQUENCES[kind],
        form=ConsentForm(formdata=None, kind=kind.value, action=ConsentAction.REVOKED.value),
    )


@bp.get("/family/<int:case_id>/consent/<kind>")
@audited("read", case="case_id")
def consent_page(case_id: int, kind: str) -> Response:
    """One consent document: its words, this guardian's answer so far, and the way to change it."""
    case, kinds = _own_consent_case(case_id)
    try:
        consent_kind = ConsentKind(kind)
    except ValueError:
        abort(404)
    if consent_kind not in kinds:
        abort(404)
    mine = db.session.scalars(
        select(ConsentRecord)
        .where(
            ConsentRecord.case_id == case.id,
            ConsentRecord.kind == consent_kind,
            ConsentRecord.given_by_id == current_user.id,
        )
        .order_by(ConsentRecord.id.desc())
        .limit(1)
    ).first()
    document = CONSENT_DOCUMENTS[consent_kind]
    agreed = mine is not None and mine.action is ConsentAction.GRANTED
    return render(
        "family/consent.html",
        case=case,
        document=document,
        latest=mine,
        agreed=agreed,
        outdated=agreed and mine is not None and mine.document_version != document.version,
        consequence=WITHDRAWAL_CONSEQUENCES[consent_kind],
        form=ConsentForm(formdata=None),
    )


@bp.route("/family/terms", methods=["GET", "POST"])
@audited("create")
def agree_terms() -> Response:
    """Asked at sign-in after the terms were withdrawn: agree again to continue (or sign out)."""
    form = AgreeTermsForm()
    if form.validate_on_submit():
        for case_id in terms_withdrawn_cases(current_user):
            case = require_case(case_id, "case.record_own_consent")  # and on the audit trail
            if guardian_link_of(current_user, case) is not None:
                do_record_consent(
                    current_user,
                    case,
                    given_by=current_user,
                    kind=ConsentKind.PORTAL_TERMS,
                    method=ConsentMethod.PORTAL,
                )
        db.session.commit()  # commit point: the view's change
        session.pop(TERMS_DUE, None)
        flash(_("Thank you. Your agreement is recorded."), "success")
        return redirect(url_for("family.home"), 303)  # type: ignore[return-value]
    return render(
        "family/terms.html", document=CONSENT_DOCUMENTS[ConsentKind.PORTAL_TERMS], form=form
    )


@bp.post("/family/<int:case_id>/child-mode")
@audited("update", case="case_id")
def enter_child_mode(case_id: int) -> Response:
    case = require_case(case_id, "case.enter_child_mode")
    auth_session = current_auth_session()
    assert auth_session is not None
    auth_session.child_mode_child_id = case.child_id
    db.session.commit()  # commit point: the view's change
    return redirect(url_for("child.home"), 303)  # type: ignore[return-value]
