"""The child's own agreement to take part, at the start of care (DESIGN §2, issue 13).

A consent record of kind `child_assent`, given in the child's way: thumbs for 4–7 (in child mode
on a guardian's device, which the guardian holds out to the child), a short choice for 8–12, and
sentences for teens. "Not yet" is recorded as not given and becomes a task for the therapist; the
family sees the child's answer on their page.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from portal import db
from portal.audit_trail import audited
from portal.cases.services import do_record_consent
from portal.child import bp
from portal.child.queries import case_for_child_screen
from portal.i18n import lazy_gettext as _l
from portal.models import (
    AgeBand,
    Case,
    ConsentAction,
    ConsentKind,
    ConsentMethod,
    ConsentRecord,
)
from portal.models.tasks import TaskKind
from portal.policies import today
from portal.security import child_mode_allowed
from portal.stored_words import N_, stored
from portal.web.htmx import render

YES, TRY, NOT_YET = "yes", "try", "not_yet"

# The same three answers, in each age band's words (the faces are added by the template).
WORDS = {
    AgeBand.YOUNG: {YES: _l("Yes!"), TRY: _l("I'll try"), NOT_YET: _l("Not yet")},
    AgeBand.CHILD: {
        YES: _l("Yes, let's do it"),
        TRY: _l("I'm not sure, but I'll try"),
        NOT_YET: _l("Not yet"),
    },
    AgeBand.TEEN: {
        YES: _l("I agree to work on this with my therapist"),
        TRY: _l("I have questions, but I'm willing to start"),
        NOT_YET: _l("I don't want to start right now"),
    },
}


class CareAssentForm(FlaskForm):
    choice = RadioField(
        _l("Will you work on this with us?"),
        validators=[DataRequired(_l("Choose one."))],
    )


def _form(band: AgeBand) -> CareAssentForm:
    form = CareAssentForm()
    form.choice.choices = [SelectChoice(key, label) for key, label in WORDS[band].items()]
    return form


def latest_care_assent(case: Case) -> ConsentRecord | None:
    return db.session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.case_id == case.id, ConsentRecord.kind == ConsentKind.CHILD_ASSENT)
        .order_by(ConsentRecord.id.desc())
        .limit(1)
    ).first()


def do_record_care_assent(case: Case, choice: str) -> ConsentRecord:
    """Given by the child; for a young child in child mode the guardian's account records it."""
    action = ConsentAction.REVOKED if choice == NOT_YET else ConsentAction.GRANTED
    record = do_record_consent(
        current_user,
        case,
        given_by=current_user,
        kind=ConsentKind.CHILD_ASSENT,
        method=ConsentMethod.PORTAL,
        action=action,
    )
    if action is ConsentAction.REVOKED:
        from portal.plans.services import add_task

        add_task(
            case,
            current_user,
            TaskKind.CHILD_NOT_READY,
            stored(N_("%(name)s said “not yet” to starting"), name=case.child.first_name),
        )
    return record


@bp.route("/me/agree", methods=["GET", "POST"])
@audited("create")
@child_mode_allowed
def care_assent() -> Response:
    case = case_for_child_screen()
    band = case.child.age_band(today())
    form = _form(band)
    if form.validate_on_submit():
        if form.choice.data not in WORDS[band]:
            abort(400)
        do_record_care_assent(case, form.choice.data)
        db.session.commit()
        flash(_("Thank you for telling us!"), "success")
        return redirect(url_for("child.home"), 303)  # type: ignore[return-value]
    return render(
        "child/assent.html",
        case=case,
        child=case.child,
        band=band,
        form=form,
        latest=latest_care_assent(case),
        status=422 if form.errors else 200,
    )
