"""Sessions in the person's own calendar (issue 13): the next session as an .ics download, and a
private feed link a calendar app subscribes to, which its owner can stop at any time."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, make_response, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from portal import db
from portal.audit_trail import audited
from portal.calendar import bp, services
from portal.calendar.forms import RemindersForm
from portal.calendar.ics import calendar
from portal.cases.queries import get_case_for
from portal.feedback.services import next_session
from portal.i18n import gettext as _
from portal.policies import require
from portal.security import public
from portal.web.htmx import render, see_other


def _ics(body: str, filename: str) -> Response:
    response = make_response(body)
    response.mimetype = "text/calendar"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/cases/<int:case_id>/next-session.ics")
@audited("read", case="case_id")
def next_session_ics(case_id: int) -> Response:
    session = next_session(get_case_for(current_user, case_id))
    if session is None:
        abort(404)
    return _ics(calendar([session]), "rapport-next-session.ics")


def _reminders_form(*, submitted: bool = False) -> RemindersForm:
    if not submitted:
        form = RemindersForm(formdata=None)
        form.reminders.data = current_user.reminders
        hour = current_user.practice_reminder_hour
        form.practice_hour.data = "" if hour is None else str(hour)
        return form.offer_hours()
    return RemindersForm().offer_hours()


def _page(
    *, link: str | None = None, reminders: RemindersForm | None = None, status: int = 200
) -> Response:
    return render(
        "calendar/feed.html",
        form=FlaskForm(),
        feed=link is not None or services.active_feed(current_user) is not None,
        link=link,
        reminders_form=reminders or _reminders_form(),
        status=status,
    )


@bp.get("/account/calendar")
@audited("read")
def feed_page() -> Response:
    require("calendar.use")
    return _page()


@bp.post("/account/reminders")
@audited("update")
def save_reminders() -> Response:
    require("calendar.use")
    form = _reminders_form(submitted=True)
    if not form.validate_on_submit():
        return _page(reminders=form, status=422)
    current_user.reminders = bool(form.reminders.data)
    hour = form.practice_hour.data
    current_user.practice_reminder_hour = int(hour) if hour else None
    db.session.commit()
    flash(_("Your reminder choices are saved."), "success")
    return see_other("calendar.feed_page")


@bp.post("/account/calendar")
@audited("create")
def make_feed() -> Response:
    require("calendar.use")
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    token = services.do_make_feed(current_user)
    db.session.commit()
    base = str(current_app.config["PORTAL_BASE_URL"]).rstrip("/")
    return _page(link=base + url_for("calendar.feed", token=token))


@bp.post("/account/calendar/stop")
@audited("delete")
def stop_feed() -> Response:
    require("calendar.use")
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    services.do_revoke_feed(current_user)
    db.session.commit()
    flash(_("Your calendar link is stopped. Calendars that used it get nothing new."), "success")
    return see_other("calendar.feed_page")


@bp.get("/calendar/<token>.ics")
@public
@audited("read")
def feed(token: str) -> Response:
    """Only with its token; a stopped or unknown link is 404, like a page that never was."""
    owner = services.feed_owner(token)
    if owner is None:
        abort(404)
    response = _ics(calendar(services.upcoming_sessions(owner)), "rapport.ics")
    response.headers["Content-Disposition"] = 'inline; filename="rapport.ics"'
    return response
