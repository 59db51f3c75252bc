"""The guardian's family page, the child switcher, consent and handing over to child mode."""

from __future__ import annotations

from flask import Response, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from portal import db
from portal.audit_trail import audited
from portal.cases.queries import cases_for, pick_case_for, require_case
from portal.cases.services import ServiceError, consent_kinds_for, do_record_consent
from portal.consent_documents import CONSENT_DOCUMENTS
from portal.family import bp
from portal.family.forms import ConsentForm
from portal.feedback import services as feedback
from portal.feedback.queries import answered_feedback
from portal.ladders.queries import practice_log
from portal.models import ConsentAction, ConsentKind, ConsentMethod, ConsentRecord
from portal.policies import guardian_link_of, today
from portal.session_state import current_auth_session
from portal.web.htmx import render


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
    # The child switcher needs every case of this guardian anyway: pick this one from them
    # (the same scoped query, so another family's case is a 404 as everywhere).
    all_cases = cases_for(current_user)
    case = pick_case_for(all_cases, case_id)
    link = guardian_link_of(current_user, case)
    assert link is not None
    kinds = consent_kinds_for(link.can_consent, case.child.age(today()))
    records = db.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.case_id == case.id)
        .options(joinedload(ConsentRecord.given_by))
        .order_by(ConsentRecord.id.desc())
    ).all()
    waiting = len(feedback.feedback_due(case, f"guardian:{current_user.id}"))
    answered = answered_feedback(case.id, current_user.id, limit=3)
    form = consent_form or ConsentForm(formdata=None)
    form.kind.choices = [SelectChoice(k.value, CONSENT_DOCUMENTS[k].title) for k in kinds]
    return render(
        "family/family.html",
        case=case,
        link=link,
        all_cases=all_cases,
        consent_records=records,
        consent_form=form,
        documents=CONSENT_DOCUMENTS,
        next_session=feedback.next_session(case),
        feedback_waiting=waiting,
        answered_feedback=answered,
        latest_practice=practice_log(current_user, case, limit=3),
        status=status,
    )


@bp.get("/family/<int:case_id>")
@audited("read", case="case_id")
def case_page(case_id: int) -> Response:
    return _family_page(case_id)


@bp.post("/family/<int:case_id>/consent")
@audited("create", case="case_id")
def record_consent(case_id: int) -> Response:
    case = require_case(case_id, "case.record_own_consent")
    link = guardian_link_of(current_user, case)
    assert link is not None  # the rule above asked for it
    kinds = consent_kinds_for(link.can_consent, case.child.age(today()))
    form = ConsentForm()
    form.kind.choices = [SelectChoice(k.value, CONSENT_DOCUMENTS[k].title) for k in kinds]
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
            flash(_("Your choice is recorded."), "success")
            return redirect(url_for("family.case_page", case_id=case.id), 303)  # type: ignore[return-value]
    return _family_page(case_id, consent_form=form, status=422)


@bp.post("/family/<int:case_id>/child-mode")
@audited("update", case="case_id")
def enter_child_mode(case_id: int) -> Response:
    case = require_case(case_id, "case.enter_child_mode")
    auth_session = current_auth_session()
    assert auth_session is not None
    auth_session.child_mode_child_id = case.child_id
    db.session.commit()  # commit point: the view's change
    return redirect(url_for("child.home"), 303)  # type: ignore[return-value]
