from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from portal.passwords import password_problem


class AcceptInvitationForm(FlaskForm):
    """Joining the care team. New guardians choose a password; existing ones confirm theirs."""

    display_name = StringField(
        "Your name",
        validators=[
            Optional(),
            Length(max=100, message="Please keep your name under 100 characters."),
        ],
        render_kw={"autocomplete": "name"},
    )
    new_password = PasswordField(
        "Choose a password",
        validators=[Optional()],
        description="At least 8 characters. A short phrase you will remember works well.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "Type it again",
        validators=[Optional(), EqualTo("new_password", "The two passwords are not the same.")],
        render_kw={"autocomplete": "new-password"},
    )
    current_password = PasswordField(
        "Your Rapport password",
        validators=[Optional()],
        render_kw={"autocomplete": "current-password"},
    )
    treatment = BooleanField("I consent to treatment")
    portal_terms = BooleanField(
        "I agree to these terms", validators=[DataRequired("Please agree to use Rapport.")]
    )
    messaging_policy = BooleanField(
        "I understand messages are not for emergencies",
        validators=[DataRequired("Please confirm you have read how messages work.")],
    )
    parental_consent_under_13 = BooleanField("I give permission for my child to use Rapport")

    def validate_new_password(self, field: Any) -> None:
        if field.data:
            problem = password_problem(field.data)
            if problem:
                raise ValidationError(problem)


__all__ = ["AcceptInvitationForm", "StringField"]
