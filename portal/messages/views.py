"""Messaging pages. Every view loads through scoped queries (a thread someone is not in is a 404,
exactly like a missing one), checks `policies.can`, calls a service and commits once.

Background views (the poll, the live stream, read marks) are marked @background: they still need
a signed-in member, but never extend the idle timeout (SE-05).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from flask import Response, abort, current_app, flash, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from portal import db
from portal.audit_trail import audited
from portal.cases.plain import plain_case_for
from portal.cases.queries import get_case_for, require_case
from portal.db import utcnow
from portal.family.needs import (
    badge_needs,
    reading_on_this_page,
    unread_messages,
    unread_on_this_page,
)
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.i18n import moments
from portal.labels import kin
from portal.messages import bp, live, services
from portal.messages.forms import MessageForm, OpenThreadForm, ReadForm, ServicePolicyForm
from portal.messages.hours import Hours, reply_by_text
from portal.messages.queries import (
    acknowledged_guardian_ids,
    get_thread_for,
    hours_of,
    messages_of,
    nav_counts,
    primary_therapist,
    read_marks,
    thread_members,
    thread_summaries,
    thread_version_for,
)
from portal.messages.references import (
    Reference,
    check_reference,
    reference_choices,
    reference_labels,
)
from portal.messages.rendering import preview, render_message
from portal.models import Case, MessageKind, MessageThread, ReferenceType, ThreadKind, User
from portal.models.case_rows import AnyCase, Named, PlainCase
from portal.policies import require, today
from portal.security import background
from portal.session_state import signed_in_person
from portal.web.htmx import render, see_other, wants_fragment

SENT = _l("Message sent.")


@bp.app_template_filter("message_html")
def _message_html(text: str) -> Any:
    return render_message(text)


@bp.app_template_filter("preview")
def _preview(text: str) -> str:
    return preview(text)


@bp.app_context_processor
def _navigation() -> dict[str, Any]:
    """`messages_nav()` is called by base.html only, so fragments run no query at all."""

    def messages_nav() -> dict[str, int] | None:
        user: User = current_user._get_current_object()
        if not user.is_authenticated:
            return None
        if user.is_guardian:
            # The same one query as the "What needs you" list (unread messages are one of them).
            return {"unread": unread_messages(badge_needs(user))}
        threads, unread = nav_counts(user)
        if user.is_child and not threads:
            return None  # children under 13 have no messaging
        return {"unread": unread - unread_on_this_page()}

    return {"messages_nav": messages_nav}


def thread_title(thread: MessageThread, case: AnyCase, viewer: User) -> str:
    child = case.child.first_name
    if thread.kind is ThreadKind.FAMILY:
        return _("%(child)s's family thread", child=child)
    if thread.kind is ThreadKind.TEEN:
        return (
            _("You and your therapist")
            if viewer.is_child
            else _("%(child)s (teen thread)", child=child)
        )
    guardian = thread.guardian.display_name if thread.guardian else _("a guardian")
    if viewer.id == thread.guardian_id:
        return _("%(child)s: your household thread", child=child)
    return _("%(child)s: household thread with %(guardian)s", child=child, guardian=guardian)


class Line(NamedTuple):
    """One message as the thread page shows it, made in Python (issue 17: fifty messages each
    asking the template for their time, link markup and "is it mine" cost more than the rest of
    the list): the row's columns and what the page writes of them. The template unpacks each
    line into these names, in this order (tests/messaging/test_thread_lines.py holds the two
    alike): no attribute looked up through Jinja for each value of each message."""

    seq: int
    kind: MessageKind
    author_id: int
    author_name: str
    ref_type: ReferenceType | None
    ref_id: int | None
    about: str | None  # what the message is about, when that is still shown ("goal: ...")
    mine: bool  # the viewer's own message (not an automatic notice)
    iso: str  # the <time datetime>
    when: str  # as the `local` filter writes it
    html: Markup  # the body, escaped, its links made clickable


def _lines(messages: Sequence[Any], viewer: User, labels: dict[tuple[str, int], str]) -> list[Line]:
    """The lines of `messages`, each with its reference's label from `labels`
    (`reference_labels` of the same messages)."""
    moment = moments()
    me = viewer.id
    return [
        Line(
            seq,
            kind,
            author_id,
            author_name,
            ref_type,
            ref_id,
            labels.get((ref_type.value, ref_id)) if ref_type is not None else None,
            author_id == me and kind is MessageKind.MESSAGE,
            created_at.isoformat(),
            moment(created_at),
            render_message(body),
        )
        # The columns of queries.messages_of, in its order (unpacked: faster than by name).
        for seq, kind, author_id, author_name, body, ref_type, ref_id, created_at in messages
    ]


# --- inbox ---------------------------------------------------------------------------------------


@bp.get("/messages")
@audited("read")
def inbox() -> Response:
    require("messages.use")
    return render(
        "messages/inbox.html",
        summaries=thread_summaries(current_user),
        title=thread_title,
    )


@bp.get("/cases/<int:case_id>/messages")
@audited("read", case="case_id")
def case_threads(case_id: int) -> Response:
    case = require_case(case_id, "messages.case_threads")
    return render(
        "messages/case.html",
        case=case,
        summaries=thread_summaries(current_user, case.id),
        title=thread_title,
        open_form=_open_thread_form(case, formdata=None),
        teen_ready=_teen_ready(case),
        left_threads=current_user.is_guardian
        and current_user.id not in acknowledged_guardian_ids(case),
    )


def _open_thread_form(case: Case, formdata: Any = ...) -> OpenThreadForm:
    form = OpenThreadForm() if formdata is ... else OpenThreadForm(formdata=formdata)
    form.guardian_id.choices = [
        SelectChoice(str(link.guardian_id), f"{link.guardian.display_name} ({kin(link.household)})")
        for link in case.guardian_links
        if link.is_current(utcnow())
    ]
    return form


def _teen_ready(case: Case) -> bool:
    return case.child.user_id is not None and 13 <= case.child.age(today()) <= 17


@bp.post("/cases/<int:case_id>/threads")
@audited("create", case="case_id")
def open_thread(case_id: int) -> Response:
    case = get_case_for(current_user, case_id)
    form = _open_thread_form(case)
    if not form.validate_on_submit():
        abort(400)  # a guardian outside this case is never a recipient (AZ-11)
    kind = ThreadKind(form.kind.data)
    action = "messages.start_family_thread" if kind is ThreadKind.FAMILY else "messages.open_thread"
    require(action, case)
    if kind is ThreadKind.TEEN and not _teen_ready(case):
        flash(_("A teen thread needs a child aged 13 to 17 with their own sign-in."), "error")
        return see_other("messages.case_threads", case_id=case.id)
    guardian = None
    if kind is ThreadKind.HOUSEHOLD:
        guardian = next(
            link.guardian
            for link in case.guardian_links
            if str(link.guardian_id) == str(form.guardian_id.data)
        )
    thread = services.do_open_thread(current_user, case, kind, guardian)
    if current_user.id not in {m.id for m in thread_members(thread, case)}:
        abort(404)
    try:
        db.session.commit()  # commit point: the view's change
    except IntegrityError:  # opened by someone else at the same moment: use theirs
        db.session.rollback()
        thread = services.do_open_thread(current_user, case, kind, guardian)
    return see_other("messages.thread", thread_id=thread.id)


# --- a thread ------------------------------------------------------------------------------------


def _load(thread_id: int) -> tuple[MessageThread, Case]:
    thread = get_thread_for(current_user, thread_id)
    return thread, get_case_for(current_user, thread.case_id)


def _read(thread_id: int) -> tuple[MessageThread, PlainCase]:
    """`_load` for a page that only reads the case and its team: plain rows (issue 17: its
    Case, Child, link, User and Clinic objects were ~0.3 ms of the thread page)."""
    thread = get_thread_for(current_user, thread_id)
    return thread, plain_case_for(current_user, thread.case_id)


def _compose_form(case: AnyCase, formdata: Any = ...) -> MessageForm:
    form = MessageForm() if formdata is ... else MessageForm(formdata=formdata)
    form.about.choices = [SelectChoice("", _("Nothing in particular"))] + [
        SelectChoice(value, f"{case.child.first_name} — {label}")
        for value, label in reference_choices(case)
    ]
    return form


class Receipt(NamedTuple):
    seq: int  # the viewer's latest own message
    text: str  # "Read by …" or "Not read yet", in the viewer's language
    read: bool  # someone it was for has read it (the page marks it ✓ from this, not from words)


def _receipt(
    viewer: User, messages: list[Line], marks: dict[int, int], members: Sequence[User | Named]
) -> Receipt | None:
    """What the viewer's latest own message says of its reading. Families see which therapists
    read it; therapists see who of the family has read it and who has not yet."""
    own = [m for m in messages if m.mine]
    if not own:
        return None
    latest = own[-1]
    others = [m for m in members if m.id != viewer.id]
    if not viewer.is_therapist:
        others = [m for m in others if m.is_therapist]
    read = [m for m in others if m.id in marks and marks[m.id] >= latest.seq]
    waiting = [m for m in others if m not in read]
    if not read and not waiting:
        return None
    text = _("Read by ") + ", ".join(m.display_name for m in read) if read else _("Not read yet")
    if viewer.is_therapist and read and waiting:
        text += _(" · not yet: ") + ", ".join(m.display_name for m in waiting)
    return Receipt(latest.seq, text, bool(read))


def _thread_context(
    thread: MessageThread, case: AnyCase, before: int | None = None, hours: Hours | None = None
) -> dict[str, Any]:
    viewer: User = current_user._get_current_object()
    rows = messages_of(thread, before)
    messages = _lines(rows, viewer, reference_labels(case, rows))
    marks = read_marks(thread)
    members = thread_members(thread, case)
    own_read = marks.get(viewer.id, 0)
    unread_here = sum(1 for m in messages if m.author_id != viewer.id and m.seq > own_read)
    therapist = primary_therapist(case)
    if therapist and thread.reply_due_at and hours is None:
        hours = hours_of(therapist)
    zone = hours.zone if therapist and thread.reply_due_at and hours else None
    now = utcnow()
    return {
        "thread": thread,
        "case": case,
        "messages": messages,
        "members": members,
        "receipt": _receipt(viewer, messages, marks, members),
        "unread": unread_here > 0,
        "unread_here": unread_here,
        "nav_unread": None,
        "live": live.enabled(),
        "poll_seconds": current_app.config["MESSAGES_POLL_SECONDS"],
        "therapist": therapist,
        "reply_due": (
            reply_by_text(thread.reply_due_at, now, zone)
            if thread.reply_due_at and not viewer.is_therapist
            else None
        ),
        "title": thread_title(thread, case, viewer),
        # Paging back through a long thread: a window of older messages holds still (no live
        # updates); "Newer messages" returns to the live end.
        "earlier": messages[0].seq if messages and messages[0].seq > 1 else None,
        "paging_back": before is not None,
    }


def _thread_page(
    thread: MessageThread,
    case: AnyCase,
    form: MessageForm,
    status: int = 200,
    before: int | None = None,
) -> Response:
    therapist = primary_therapist(case)
    hours = hours_of(therapist) if therapist else None  # one read for the page and the context
    context = _thread_context(thread, case, before, hours)
    if context["unread"] and not context["paging_back"]:  # the page marks them read as it loads
        reading_on_this_page(case.id, context["unread_here"])
    now = utcnow()
    return render(
        "messages/thread.html",
        form=form,
        hours=hours,
        in_hours=hours.in_hours(now) if hours else True,
        expect_by=reply_by_text(hours.reply_due(now), now, hours.zone) if hours else None,
        status=status,
        **context,
    )


@bp.get("/messages/<int:thread_id>")
@audited("read", message_thread="thread_id")
def thread(thread_id: int) -> Response:
    thread, case = _read(thread_id)
    form = _compose_form(case, formdata=None)
    form.fresh_key()
    wanted = Reference.parse(request.args.get("about"))
    if wanted and wanted.value in {c.value for c in form.about.choices}:
        form.about.data = wanted.value
    before = request.args.get("before", type=int)
    return _thread_page(thread, case, form, before=before if before and before > 0 else None)


@bp.post("/messages/<int:thread_id>")
@audited("create", message_thread="thread_id")
def send(thread_id: int) -> Response:
    thread, case = _load(thread_id)  # membership is the permission to post (AZ-11)
    form = _compose_form(case)
    if form.validate_on_submit():
        reference = Reference.parse(form.about.data) if form.about.data else None
        if reference is not None and not check_reference(case, reference):
            form.about.errors = [_("Choose something from this list.")]
            return _thread_page(thread, case, form, status=422)
        try:
            sent = services.do_send_message(
                current_user,
                thread,
                case,
                body=form.body.data or "",
                idempotency_key=form.idempotency_key.data,
                reference=reference,
            )
        except services.MessagingError as exc:
            db.session.rollback()
            thread, case = _load(thread_id)
            form.body.errors = [str(exc)]
            return _thread_page(thread, case, form, status=422)
        if sent.duplicate:  # the same send twice (double click, retry): one message (RL-02)
            db.session.rollback()
            return see_other("messages.thread", thread_id=thread_id)
        try:
            db.session.commit()  # commit point: the view's change
        except IntegrityError:
            db.session.rollback()
            return see_other("messages.thread", thread_id=thread_id)
        live.publish(thread.id, thread.version)
        flash(SENT, "success")
        return see_other("messages.thread", thread_id=thread.id)
    return _thread_page(thread, case, form, status=422)


@bp.get("/messages/<int:thread_id>/updates")
@background
@audited("read", message_thread="thread_id")
def updates(thread_id: int) -> Response:
    """The poll: one query when nothing changed (204); otherwise the message list fragment. The
    version is asked as the signed-in `Person` of the background sign-in check, so an idle poll
    loads nobody's ORM objects (issue 17)."""
    version = thread_version_for(signed_in_person(), thread_id)
    if request.args.get("v", type=int) == version:
        return Response(status=204)
    thread, case = _read(thread_id)
    if not wants_fragment():  # the same URL opened as a page: the whole thread page
        form = _compose_form(case, formdata=None)
        form.fresh_key()
        return _thread_page(thread, case, form)
    context = _thread_context(thread, case)
    # The navigation badge follows along (out of band): unread elsewhere; this thread is on screen.
    context["nav_unread"] = nav_counts(current_user)[1] - context["unread_here"]
    return render("messages/thread.html", block="message_list", **context)


@bp.get("/messages/<int:thread_id>/stream")
@background
@audited("read", message_thread="thread_id")
def stream(thread_id: int) -> Response:
    """Server-sent events that say "this thread changed" (no content). Without Redis there is no
    stream: 204 tells the browser's EventSource to stop, and the page polls."""
    if not live.enabled():
        thread_version_for(current_user, thread_id)  # 404 for a non-member, as everywhere
        return Response(status=204)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    pubsub = live.subscribe(app, thread_id)
    try:
        version = thread_version_for(current_user, thread_id)
    except Exception:
        pubsub.close()
        raise
    db.session.close()  # hold no database connection while the stream waits
    response = Response(live.stream(app, pubsub, version), mimetype="text/event-stream")
    response.call_on_close(pubsub.close)  # also when the body is never read (HEAD, hang-up)
    response.headers["X-Accel-Buffering"] = "no"
    return response


@bp.post("/messages/<int:thread_id>/read")
@background
@audited("update", message_thread="thread_id")
def mark_read(thread_id: int) -> Response:
    thread = get_thread_for(current_user, thread_id)
    form = ReadForm()
    if not form.validate_on_submit() or form.seq.data is None:
        abort(400)
    try:
        moved = services.do_mark_read(current_user, thread, form.seq.data)
        db.session.commit()  # commit point: the view's change
    except IntegrityError:  # the same reader's other tab got there first
        db.session.rollback()
        return Response(status=204)
    if moved:
        live.publish(thread.id, thread.version)
    return Response(status=204)


# --- the therapist's office hours ----------------------------------------------------------------


def _office_hours_page(form: ServicePolicyForm, status: int = 200) -> Response:
    hours = hours_of(current_user)
    return render("messages/office_hours.html", form=form, hours=hours, status=status)


@bp.get("/messages/office-hours")
@audited("read")
def office_hours() -> Response:
    require("messages.office_hours")
    hours = hours_of(current_user)
    form = ServicePolicyForm(formdata=None)
    form.office_days.data = [str(i) for i in range(7) if hours.office_days & (1 << i)]
    form.opens_at.data = hours.opens_at
    form.closes_at.data = hours.closes_at
    form.reply_window_days.data = hours.reply_window_days
    return _office_hours_page(form)


@bp.post("/messages/office-hours")
@audited("update")
def save_office_hours() -> Response:
    require("messages.office_hours")
    form = ServicePolicyForm()
    if form.validate_on_submit():
        days = sum(1 << int(day) for day in set(form.office_days.data or []))
        services.do_save_service_policy(
            current_user,
            office_days=days,
            opens_at=form.opens_at.data,
            closes_at=form.closes_at.data,
            reply_window_days=form.reply_window_days.data or 2,
        )
        db.session.commit()  # commit point: the view's change
        flash(_("Office hours saved. Families see them on every message box."), "success")
        return see_other("messages.office_hours")
    return _office_hours_page(form, status=422)
