from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.db import utcnow
from portal.web.validators import EmailAddress

NAME = Length(max=100, message="Please keep this under 100 characters.")


class OpenCaseForm(FlaskForm):
    first_name = StringField(
        "Child's first name", validators=[DataRequired("Enter the child's first name."), NAME]
    )
    last_name = StringField(
        "Child's last name", validators=[DataRequired("Enter the child's last name."), NAME]
    )
    date_of_birth = DateField(
        "Date of birth",
        validators=[DataRequired("Enter the date of birth as year-month-day, e.g. 2019-04-17.")],
    )
    concern = StringField(
        "Main concern (short)",
        validators=[Optional(), Length(max=200, message="Please keep this under 200 characters.")],
        description="For your caseload, e.g. “separation anxiety”.",
    )

    def validate_date_of_birth(self, field: Any) -> None:
        born: date = field.data
        today = utcnow().date()
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if born > today:
            raise ValidationError("The date of birth is in the future.")
        if not 4 <= age <= 17:
            raise ValidationError("Rapport is for children aged 4 to 17.")


class InviteGuardianForm(FlaskForm):
    email = EmailField(
        "Guardian's email",
        validators=[
            DataRequired("Enter the guardian's email."),
            EmailAddress(),
            Length(max=254),
        ],
    )
    relationship_label = StringField(
        "Relationship to the child",
        validators=[
            DataRequired("Say how they are related, e.g. mother, grandfather."),
            Length(max=60),
        ],
    )
    household = StringField(
        "Household",
        validators=[Optional(), Length(max=60)],
        description="Separated parents are two households, e.g. “Mum's house” and “Dad's house”.",
    )
    has_legal_authority = BooleanField("Has legal authority for the child", default=True)
    can_consent = BooleanField("Can give consent", default=True)


class AddTherapistForm(FlaskForm):
    # Its own id: the case page also holds the guardian invitation's "email" field.
    email = EmailField(
        "Colleague's email",
        id="colleague_email",
        validators=[
            DataRequired("Enter your colleague's email."),
            EmailAddress(),
        ],
    )


class ChildAccountForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[
            DataRequired("Choose a username."),
            Length(min=3, max=40, message="A username is 3 to 40 characters."),
            Regexp(
                r"^[A-Za-z0-9._-]+$", message="Use letters, numbers, dots, dashes or underscores."
            ),
        ],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    secret = PasswordField(
        "PIN or password", validators=[DataRequired("Choose a PIN or password.")]
    )
    confirm = PasswordField("Type it again", validators=[DataRequired("Type it again.")])


__all__ = ["AddTherapistForm", "ChildAccountForm", "InviteGuardianForm", "OpenCaseForm"]
