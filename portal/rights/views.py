"""Data rights (CO-02): the guardian's "Your child's data" page, the JSON download and printable
page, a deletion request, closing the child's account; the admin's queue of deletion requests."""

from __future__ import annotations

import json

from flask import Response, abort, flash, make_response
from flask_babel import gettext as _
from flask_login import current_user

from portal import audit, db
from portal.audit_trail import audited
from portal.cases.queries import require_case
from portal.cases.services import ServiceError
from portal.db import utcnow
from portal.models import Case
from portal.policies import require
from portal.rights import bp, services
from portal.rights.forms import CloseAccountForm, CompleteDeletionForm, DeletionRequestForm
from portal.web.htmx import render, see_other
from portal.web.sorting import order_by_request


def _audit(action: str, case: Case, object_id: int | None = None) -> None:
    audit.record(
        db.session,
        action=action,
        child_id=case.child_id,
        object_type="data_request" if object_id else "child",
        object_id=object_id or case.child_id,
    )


def _data_page(
    case: Case,
    *,
    deletion_form: DeletionRequestForm | None = None,
    close_form: CloseAccountForm | None = None,
    status: int = 200,
) -> Response:
    return render(
        "rights/data.html",
        case=case,
        requests=services.requests_of(case),
        pending=services.pending_request(case),
        deletion_form=deletion_form or DeletionRequestForm(formdata=None),
        close_form=close_form or CloseAccountForm(formdata=None),
        retained=services.RETAINED_RECORDS,
        status=status,
    )


@bp.get("/family/<int:case_id>/data")
@audited("read", case="case_id")
def data_page(case_id: int) -> Response:
    return _data_page(require_case(case_id, "rights.export"))


@bp.get("/family/<int:case_id>/data/export.json")
@audited("export", case="case_id")
def export_json(case_id: int) -> Response:
    from portal.rights import export  # the download's, not every worker's (issue 17)

    case = require_case(case_id, "rights.export")
    _audit("export", case)
    body = json.dumps(export.document(case, current_user, utcnow()), ensure_ascii=False, indent=2)
    response = make_response(body)
    response.mimetype = "application/json"
    filename = f"rapport-child-{case.child_id}-{utcnow():%Y%m%d}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    db.session.commit()  # commit point: the view's audit row (an export or print)
    return response


@bp.get("/family/<int:case_id>/data/print")
@audited("print", case="case_id")
def printable(case_id: int) -> Response:
    from portal.rights import export
    from portal.rights.readable import readable

    case = require_case(case_id, "rights.export")
    _audit("print", case)
    now = utcnow()
    response = render(
        "rights/print.html",
        case=case,
        prepared_for=current_user.display_name,
        prepared_at=now,
        parts=readable(export.document(case, current_user, now)),
        not_included=export.NOT_EXPORTED,
    )
    db.session.commit()  # commit point: the view's audit row (an export or print)
    return response


@bp.post("/family/<int:case_id>/data/deletion")
@audited("create", case="case_id")
def request_deletion(case_id: int) -> Response:
    case = require_case(case_id, "rights.request_deletion")
    form = DeletionRequestForm()
    if form.validate_on_submit():
        try:
            request = services.do_request_deletion(current_user, case, form.reason.data or "")
        except ServiceError as exc:
            form.reason.errors = [str(exc)]
        else:
            _audit("deletion_request", case, request.id)
            db.session.commit()  # commit point: the view's change
            flash(
                _("Your request is with the clinic. We will tell you when it is done."), "success"
            )
            return see_other("rights.data_page", case_id=case.id)
    return _data_page(case, deletion_form=form, status=422)


@bp.post("/family/<int:case_id>/child-account/close")
@audited("delete", case="case_id")
def close_child_account(case_id: int) -> Response:
    case = require_case(case_id, "rights.close_child_account")
    form = CloseAccountForm()
    if form.validate_on_submit():
        try:
            closed = services.do_close_child_account(case)
        except ServiceError as exc:
            form.confirm.errors = [str(exc)]
        else:
            audit.record(
                db.session,
                action="account_close",
                child_id=case.child_id,
                object_type="user",
                object_id=closed.id,
            )
            db.session.commit()  # commit point: the view's change
            flash(
                _("%(name)s's account is closed.", name=case.child.first_name),
                "success",
            )
            return see_other("rights.data_page", case_id=case.id)
    return _data_page(case, close_form=form, status=422)


def _queue(form: CompleteDeletionForm | None = None, status: int = 200) -> Response:
    order, sort, direction = order_by_request(services.REQUEST_SORTS, default="requested")
    return render(
        "rights/admin_requests.html",
        requests=services.requests_for_admin(current_user, order),
        sort=sort,
        direction=direction,
        form=form or CompleteDeletionForm(formdata=None),
        status=status,
    )


@bp.get("/admin/data-requests")
@audited("read")
def admin_requests() -> Response:
    require("rights.manage_requests")
    return _queue()


@bp.post("/admin/data-requests/<int:request_id>/complete")
@audited("update")
def complete_request(request_id: int) -> Response:
    require("rights.manage_requests")
    request = services.get_request_for_admin(current_user, request_id)
    if request is None:
        abort(404)
    form = CompleteDeletionForm()
    if form.validate_on_submit():
        try:
            services.do_complete_deletion(current_user, request)
        except ServiceError as exc:
            form.confirm.errors = [str(exc)]
        else:
            _audit("deletion_complete", request.case, request.id)
            db.session.commit()  # commit point: the view's change
            flash(_("Done. The child's personal information is removed."), "success")
            return see_other("rights.admin_requests")
    return _queue(form, status=422)
