from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, Email, EqualTo, Length, ValidationError

from portal.i18n import LANGUAGES
from portal.passwords import password_problem


class NewPasswordMixin:
    """A new password typed twice, checked against the password rules."""

    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a password."))],
        description=_l("At least 8 characters. A short phrase you will remember works well."),
    )
    confirm_password = PasswordField(
        _l("Type it again"),
        validators=[
            DataRequired(_l("Type the password again.")),
            EqualTo("new_password", _l("The two passwords are not the same.")),
        ],
    )


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
        render_kw={"autocomplete": "username", "inputmode": "email"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class KidsLoginForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(_l("Type your username.")), Length(max=40)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    secret = PasswordField(
        _l("PIN or password"),
        validators=[DataRequired(_l("Type your PIN or password.")), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )


class SetPasswordForm(NewPasswordMixin, FlaskForm):
    def validate_new_password(self, field: Any) -> None:
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


class LeaveChildModeForm(FlaskForm):
    password = PasswordField(
        _l("Grown-up's password"),
        validators=[DataRequired(_l("Enter your password to leave the child's screen."))],
        render_kw={"autocomplete": "current-password"},
    )


__all__ = [
    "ChangePasswordForm",
    "Email",
    "KidsLoginForm",
    "LeaveChildModeForm",
    "LoginForm",
    "SetPasswordForm",
]


class LanguageForm(FlaskForm):
    """The language picker on every page: "" means follow the browser's language."""

    # A plain field checked against the list (the <select> is drawn in base.html).
    language = StringField(
        lazy_gettext("Language"),
        validators=[AnyOf(["", *LANGUAGES], lazy_gettext("Choose a language from the list."))],
    )
    next = HiddenField()
