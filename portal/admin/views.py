"""Clinic administration: the admin adds therapists, who set their own password by link."""

from __future__ import annotations

import secrets

from flask import Response, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length

from portal import audit, db
from portal.admin import bp
from portal.audit_trail import audited
from portal.db import utcnow
from portal.i18n import lazy_gettext as _l
from portal.models import AccountToken, Credential, Role, User
from portal.ops.outbox import queue_email
from portal.security import token_hash
from portal.web.htmx import render
from portal.web.validators import EmailAddress


class NewTherapistForm(FlaskForm):
    display_name = StringField(
        _l("Name as families see it"),
        validators=[DataRequired(_l("Enter a name.")), Length(max=100)],
    )
    email = EmailField(
        _l("Work email"),
        validators=[
            DataRequired(_l("Enter an email.")),
            EmailAddress(),
            Length(max=254),
        ],
    )


def _therapists() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.THERAPIST, User.clinic_id == current_user.clinic_id)
            .order_by(User.display_name)
        )
    )


@bp.get("/therapists")
@audited("read")
def therapists() -> Response:
    return render(
        "admin/therapists.html", therapists=_therapists(), form=NewTherapistForm(formdata=None)
    )


@bp.post("/therapists")
@audited("create")
def add_therapist() -> Response:
    form = NewTherapistForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        if db.session.scalars(select(User.id).where(User.email == email)).first() is not None:
            form.email.errors = [_("Someone already uses this email in Rapport.")]
        else:
            therapist = User(
                role=Role.THERAPIST,
                clinic_id=current_user.clinic_id,
                email=email,
                display_name=(form.display_name.data or "").strip(),
                credential=Credential.PASSWORD,
            )
            db.session.add(therapist)
            db.session.flush()
            audit.record(
                db.session,
                action="role_grant",
                object_type="user",
                object_id=therapist.id,
                detail="therapist",
            )
            token = secrets.token_urlsafe(32)
            db.session.add(
                AccountToken(
                    user_id=therapist.id,
                    purpose="setup",
                    token_hash=token_hash(token),
                    expires_at=utcnow() + current_app.config["ACCOUNT_TOKEN_TTL"],
                )
            )
            link = current_app.config["PORTAL_BASE_URL"].rstrip("/") + url_for(
                "auth.setup_account", token=token
            )
            queue_email(
                to=email,
                subject=_("Your Rapport account"),
                body=(
                    _(
                        "An account was made for you on Rapport. "
                        "Set your password within 3 days:\n%(link)s",
                        link=link,
                    )
                ),
                dedupe_key=f"account-setup:{therapist.id}",
            )
            db.session.commit()  # commit point: the view's change
            flash(
                _(
                    "%(display_name)s was added and emailed a link to set a password.",
                    display_name=therapist.display_name,
                ),
                "success",
            )
            return redirect(url_for("admin.therapists"), 303)  # type: ignore[return-value]
    return render("admin/therapists.html", therapists=_therapists(), form=form, status=422)
