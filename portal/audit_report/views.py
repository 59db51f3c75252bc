"""The clinic admin's audit report (LG-05) and "who viewed the record" (DESIGN §7)."""

from __future__ import annotations

from flask import Response, request
from flask_babel import gettext as _
from flask_login import current_user

from portal import audit, db
from portal.audit_report import bp, queries
from portal.audit_report.forms import AuditFilterForm
from portal.audit_trail import accessed, audited
from portal.cases.queries import require_case
from portal.messages.queries import visible_thread_ids
from portal.policies import require
from portal.web.htmx import render


def _page_number() -> int:
    return request.args.get("page", default=1, type=int) or 1


@bp.get("/admin/audit")
@audited("read")
def report() -> Response:
    require("clinic.read_audit")
    clinic = current_user.clinic
    form = AuditFilterForm(request.args)
    form.user.choices = [("", _("Everyone"))] + [
        (str(uid), label) for uid, label in queries.people_choices(clinic.id)
    ]
    form.child.choices = [("", _("All children"))] + [
        (str(cid), label) for cid, label in queries.child_choices(clinic.id)
    ]
    sort = request.args.get("sort", queries.DEFAULT_SORT)
    if sort not in queries.SORTS:
        sort = queries.DEFAULT_SORT
    descending = request.args.get("dir", "desc") != "asc"
    page = None
    status = 200
    if form.validate():
        page = queries.clinic_report(
            clinic.id,
            clinic.timezone,
            date_from=form.date_from.data,
            date_to=form.date_to.data,
            user_id=form.chosen_id(form.user),
            child_id=form.chosen_id(form.child),
            sort=sort,
            descending=descending,
            page=_page_number(),
        )
    else:
        status = 422
    # Reading the trail is itself on the trail.
    audit.record(db.session, action="read", object_type="audit_report", object_id=clinic.id)
    db.session.commit()  # commit point: the view's change
    filters = {k: v for k, v in request.args.items() if k in form.data and v}
    return render(
        "audit/report.html",
        form=form,
        page=page,
        sort=sort,
        descending=descending,
        filters=filters,
        status=status,
    )


@bp.get("/cases/<int:case_id>/record-views")
@audited("read", case="case_id")
def record_views(case_id: int) -> Response:
    case = require_case(case_id, "case.see_record_views")
    accessed("record_views", case.id, case_id=case.id, child_id=case.child_id)
    visible = None if current_user.is_therapist else visible_thread_ids(current_user)
    page = queries.record_views(case, current_user, page=_page_number(), visible_threads=visible)
    return render("audit/record_views.html", case=case, page=page)
