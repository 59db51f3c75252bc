"""A new sign-in address counts only once confirmed (AU-05, issue 13).

Asking for a change (password typed in the last five minutes) sends a single-use link to the new
address (valid 24 hours) and, to the current address, a notice with a link that cancels it (valid
7 days). Until the new address follows its link, the current one stays the sign-in. If the change
was confirmed by someone else, the cancel link still puts the old address back and signs every
device out. Links are 256-bit random tokens kept as SHA-256 hashes (AccountToken, `address`).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select, update

from portal import db
from portal.auth import bp
from portal.auth.forms import ChangeEmailForm
from portal.auth.second_step import audit_account
from portal.auth.views import (
    in_their_language,
    notify_account_change,
    to_sign_in,
    usable_token,
)
from portal.db import utcnow
from portal.i18n import gettext as _
from portal.i18n import language_of
from portal.models import AccountToken, Role, User
from portal.ops.outbox import queue_email
from portal.security import end_all_sessions, fresh_sign_in_required, public, token_hash
from portal.web.htmx import render

CONFIRM = "email_confirm"
CANCEL = "email_cancel"
CONFIRM_TTL = timedelta(hours=24)
CANCEL_TTL = timedelta(days=7)


class EmailChangeError(Exception):
    pass


def _link(endpoint: str, token: str) -> str:
    return str(current_app.config["PORTAL_BASE_URL"]).rstrip("/") + url_for(endpoint, token=token)


def _token(user: User, purpose: str, address: str, ttl: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_hash(token),
            address=address,
            expires_at=utcnow() + ttl,
        )
    )
    return token


def _retire(user: User, purpose: str) -> None:
    """Earlier links of this kind stop working: only the newest request counts."""
    db.session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )


def _address_taken(address: str, user: User) -> bool:
    found = db.session.scalars(select(User.id).where(User.email == address)).first()
    return found is not None and found != user.id


def pending_address(user: User) -> str | None:
    """The new address waiting for its confirmation, if any."""
    return db.session.scalars(
        select(AccountToken.address).where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == CONFIRM,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > utcnow(),
        )
    ).first()


def do_ask_email_change(user: User, new: str) -> None:
    """Send the confirmation link to `new` and the cancel notice to the current address."""
    if new == user.email:
        raise EmailChangeError(_("That is already your email address."))
    if _address_taken(new, user):
        raise EmailChangeError(_("That address cannot be used. Choose another."))
    _retire(user, CONFIRM)
    confirm = _token(user, CONFIRM, new, CONFIRM_TTL)
    with language_of(user):
        queue_email(
            to=new,
            subject=_("Confirm your new email address for Rapport"),
            body=_(
                "Hello %(name)s,\n\nTo sign in to Rapport with this address from now on, open this "
                "link within 24 hours:\n\n%(link)s\n\nUntil then you keep signing in with your "
                "current address. If you did not ask for this, ignore this email.\n",
                name=user.display_name,
                link=_link("auth.confirm_email", confirm),
            ),
            dedupe_key=f"email-confirm:{token_hash(confirm)}",
        )
        if user.email:
            cancel = _token(user, CANCEL, user.email, CANCEL_TTL)
            queue_email(
                to=user.email,
                subject=_("Someone asked to change your Rapport email address"),
                body=_(
                    "Hello %(name)s,\n\nSomeone signed in as you asked to make %(new)s the email "
                    "address you sign in with. Nothing changes until that address confirms it.\n\n"
                    "If it was not you, cancel it with this link (it works for 7 days and also "
                    "undoes a change that was already confirmed):\n\n%(link)s\n\nThen change your "
                    "password and contact your clinic.\n",
                    name=user.display_name,
                    new=new,
                    link=_link("auth.cancel_email_change", cancel),
                ),
                dedupe_key=f"email-cancel:{token_hash(cancel)}",
            )
    db.session.flush()


def do_confirm_email_change(link: AccountToken) -> User:
    """The new address opened its link: it becomes the sign-in; the old one is told."""
    user = link.user
    address = link.address or ""
    if _address_taken(address, user):
        raise EmailChangeError(_("That address cannot be used. Choose another."))
    old = user.email
    user.email = address
    link.used_at = utcnow()
    _retire(user, CONFIRM)
    with language_of(user):
        notify_account_change(user, _("This is now the email address for Rapport."))
        if old:
            queue_email(
                to=old,
                subject=_("Your Rapport account was changed"),
                body=_(
                    "Hello %(name)s,\n\nThe email address of your Rapport account was changed to "
                    "%(new)s. If this was not you, the link in our earlier email undoes it for 7 "
                    "days; contact your clinic today.\n",
                    name=user.display_name,
                    new=address,
                ),
                dedupe_key=f"email-changed:{user.id}:{secrets.token_hex(8)}",
            )
    audit_account("email_change", user)
    db.session.flush()
    return user


def do_cancel_email_change(link: AccountToken) -> User:
    """Stop a waiting change; after a confirmed one, put the old address back and sign out."""
    user = link.user
    link.used_at = utcnow()
    _retire(user, CONFIRM)
    kept = link.address or ""
    if kept and user.email != kept and not _address_taken(kept, user):
        user.email = kept
        end_all_sessions(user.id, "email_change_cancelled")
        audit_account("email_change", user)
    db.session.flush()
    return user


@bp.route("/account/email", methods=["GET", "POST"])
@fresh_sign_in_required
def change_email() -> Response:
    user: User = current_user
    if user.role is Role.CHILD:
        abort(404)  # children sign in with a username and have no email here
    form = ChangeEmailForm()
    if form.validate_on_submit():
        new = (form.email.data or "").strip().lower()
        try:
            do_ask_email_change(user, new)
        except EmailChangeError as problem:
            form.email.errors = [str(problem)]
        else:
            db.session.commit()
            flash(
                _(
                    "We sent a link to %(new)s. Your sign-in address changes when you open it; "
                    "until then, keep signing in with %(old)s.",
                    new=new,
                    old=user.email,
                ),
                "success",
            )
            return redirect(url_for("auth.change_email"))  # type: ignore[return-value]
    status = 422 if request.method == "POST" else 200
    return render("auth/change_email.html", form=form, pending=pending_address(user), status=status)


@bp.route("/account/email/confirm/<token>", methods=["GET", "POST"])
@public
def confirm_email(token: str) -> Response:
    link = usable_token(token, CONFIRM)
    user, form = link.user, FlaskForm()
    with in_their_language(user):
        # A POST: opening the link alone (a mail scanner) changes nothing.
        if form.validate_on_submit():
            try:
                do_confirm_email_change(link)
            except EmailChangeError as problem:
                flash(str(problem), "error")
                return to_sign_in(user)
            db.session.commit()
            flash(_("Your email address is changed. Sign in with it from now on."), "success")
            return to_sign_in(user)
        return render("auth/email_link.html", form=form, link=link, confirming=True)


@bp.route("/account/email/cancel/<token>", methods=["GET", "POST"])
@public
def cancel_email_change(token: str) -> Response:
    link = usable_token(token, CANCEL)
    user, form = link.user, FlaskForm()
    with in_their_language(user):
        if form.validate_on_submit():
            do_cancel_email_change(link)
            db.session.commit()
            flash(
                _("The change is cancelled. You sign in with %(address)s.", address=link.address),
                "success",
            )
            return to_sign_in(user)
        return render("auth/email_link.html", form=form, link=link, confirming=False)
