from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.i18n import lazy_gettext as _l


class DeletionRequestForm(FlaskForm):
    reason = TextAreaField(
        _l("Anything the clinic should know (optional)"),
        validators=[Length(max=2000, message=_l("Please keep it under 2,000 characters."))],
    )
    confirm = BooleanField(
        _l("I understand that the clinic keeps the records it must legally retain"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
        id="confirm-deletion",  # the data page also holds the close-account form
    )


class CloseAccountForm(FlaskForm):
    confirm = BooleanField(
        _l("Close my child's sign-in now"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
        id="confirm-close",
    )


class CompleteDeletionForm(FlaskForm):
    confirm = BooleanField(
        _l("Remove the child's personal information now"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
