from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.db import utcnow
from portal.i18n import lazy_gettext as _l
from portal.web.validators import EmailAddress

NAME = Length(max=100, message=_l("Please keep this under 100 characters."))


class OpenCaseForm(FlaskForm):
    first_name = StringField(
        _l("Child's first name"),
        validators=[DataRequired(_l("Enter the child's first name.")), NAME],
    )
    last_name = StringField(
        _l("Child's last name"), validators=[DataRequired(_l("Enter the child's last name.")), NAME]
    )
    date_of_birth = DateField(
        _l("Date of birth"),
        validators=[
            DataRequired(_l("Enter the date of birth as year-month-day, e.g. 2019-04-17."))
        ],
    )
    concern = StringField(
        _l("Main concern (short)"),
        validators=[
            Optional(),
            Length(max=200, message=_l("Please keep this under 200 characters.")),
        ],
        description=_l("For your caseload, e.g. “separation anxiety”."),
    )

    def validate_date_of_birth(self, field: Any) -> None:
        born: date = field.data
        today = utcnow().date()
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if born > today:
            raise ValidationError(_l("The date of birth is in the future."))
        if not 4 <= age <= 17:
            raise ValidationError(_l("Rapport is for children aged 4 to 17."))


class InviteGuardianForm(FlaskForm):
    email = EmailField(
        _l("Guardian's email"),
        validators=[
            DataRequired(_l("Enter the guardian's email.")),
            EmailAddress(),
            Length(max=254),
        ],
    )
    relationship_label = StringField(
        _l("Relationship to the child"),
        validators=[
            DataRequired(_l("Say how they are related, e.g. mother, grandfather.")),
            Length(max=60),
        ],
    )
    household = StringField(
        _l("Household"),
        validators=[Optional(), Length(max=60)],
        description=_l(
            "Separated parents are two households, e.g. “Mum's house” and “Dad's house”."
        ),
    )
    has_legal_authority = BooleanField(_l("Has legal authority for the child"), default=True)
    can_consent = BooleanField(_l("Can give consent"), default=True)


class AddTherapistForm(FlaskForm):
    # Its own id: the case page also holds the guardian invitation's "email" field.
    email = EmailField(
        _l("Colleague's email"),
        id="colleague_email",
        validators=[
            DataRequired(_l("Enter your colleague's email.")),
            EmailAddress(),
        ],
    )


class ChildAccountForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(_l("Choose a username.")),
            Length(min=3, max=40, message=_l("A username is 3 to 40 characters.")),
            Regexp(
                r"^[A-Za-z0-9._-]+$",
                message=_l("Use letters, numbers, dots, dashes or underscores."),
            ),
        ],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    secret = PasswordField(
        _l("PIN or password"), validators=[DataRequired(_l("Choose a PIN or password."))]
    )
    confirm = PasswordField(_l("Type it again"), validators=[DataRequired(_l("Type it again."))])


__all__ = [
    "AddTherapistForm",
    "ChildAccountForm",
    "InviteGuardianForm",
    "OpenCaseForm",
]
