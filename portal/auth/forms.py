from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, Email, EqualTo, Length, ValidationError

from portal.i18n import LANGUAGES, lazy_gettext
from portal.i18n import lazy_gettext as _l
from portal.passwords import password_problem
from portal.web.validators import EmailAddress


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


class SecondStepForm(FlaskForm):
    code = StringField(
        _l("6-digit code"),
        validators=[DataRequired(_l("Type the code from your authenticator app.")), Length(max=40)],
        description=_l("From your authenticator app. Lost your phone? Type a recovery code."),
        render_kw={
            "autocomplete": "one-time-code",
            "autofocus": True,
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


class EnrolForm(FlaskForm):
    code = StringField(
        _l("6-digit code"),
        validators=[DataRequired(_l("Type the code your app shows now.")), Length(max=12)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
        render_kw={"autocomplete": "username", "inputmode": "email"},
    )


class ChangeEmailForm(FlaskForm):
    email = EmailField(
        _l("New email address"),
        validators=[
            DataRequired(_l("Enter the new email address.")),
            Length(max=254, message=_l("Use at most 254 characters.")),
            EmailAddress(),
        ],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )


__all__ = [
    "ChangeEmailForm",
    "ChangePasswordForm",
    "ConfirmPasswordForm",
    "Email",
    "EnrolForm",
    "ForgotPasswordForm",
    "KidsLoginForm",
    "LeaveChildModeForm",
    "LoginForm",
    "SecondStepForm",
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
