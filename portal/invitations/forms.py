from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from portal.i18n import lazy_gettext as _l
from portal.passwords import password_problem


class AcceptInvitationForm(FlaskForm):
    """Joining the care team. New guardians choose a password; existing ones confirm theirs."""

    display_name = StringField(
        _l("Your name"),
        validators=[
            Optional(),
            Length(max=100, message=_l("Please keep your name under 100 characters.")),
        ],
        render_kw={"autocomplete": "name"},
    )
    new_password = PasswordField(
        _l("Choose a password"),
        validators=[Optional()],
        description=_l("At least 8 characters. A short phrase you will remember works well."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("Type it again"),
        validators=[Optional(), EqualTo("new_password", _l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )
    current_password = PasswordField(
        _l("Your Rapport password"),
        validators=[Optional()],
        render_kw={"autocomplete": "current-password"},
    )
    treatment = BooleanField(_l("I consent to treatment"))
    portal_terms = BooleanField(
        _l("I agree to these terms"), validators=[DataRequired(_l("Please agree to use Rapport."))]
    )
    messaging_policy = BooleanField(
        _l("I understand messages are not for emergencies"),
        validators=[DataRequired(_l("Please confirm you have read how messages work."))],
    )
    parental_consent_under_13 = BooleanField(_l("I give permission for my child to use Rapport"))

    def validate_new_password(self, field: Any) -> None:
        if field.data:
            problem = password_problem(field.data)
            if problem:
                raise ValidationError(problem)


__all__ = ["AcceptInvitationForm", "StringField"]
