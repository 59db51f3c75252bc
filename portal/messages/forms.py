"""Messaging forms: the compose box, opening a thread, the therapist's office hours."""

from __future__ import annotations

import uuid
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.i18n import lazy_gettext as _l
from portal.messages.hours import DAY_NAMES
from portal.models.messages import MAX_MESSAGE_LENGTH
from portal.web.widgets import QuickSelect, QuickTextArea


def _uuid(_form: Any, field: Any) -> None:
    try:
        uuid.UUID(str(field.data))
    except ValueError as exc:
        raise ValidationError(_l("Please reload the page and send again.")) from exc


class MessageForm(FlaskForm):
    body = TextAreaField(
        _l("Your message"),
        validators=[
            DataRequired(_l("Write a message first.")),
            Length(max=MAX_MESSAGE_LENGTH, message=_l("A message is at most 5,000 characters.")),
        ],
        widget=QuickTextArea(),  # written the same for less work, as `about`
    )
    about = SelectField(
        _l("About (optional)"),
        choices=[],
        default="",
        validate_choice=True,
        widget=QuickSelect(),  # the page's longest list, written the same for less work
    )
    # The label wtforms would give it, written out: a field without one has wtforms read its own
    # catalogue from disk on every request to translate the name (issue 17); it is never shown.
    idempotency_key = HiddenField("Idempotency Key", validators=[DataRequired(), _uuid])

    def fresh_key(self) -> None:
        self.idempotency_key.data = str(uuid.uuid4())


class ReadForm(FlaskForm):
    seq = IntegerField(validators=[InputRequired(), NumberRange(min=0)])


class OpenThreadForm(FlaskForm):
    kind = SelectField(
        _l("Thread"),
        choices=[
            SelectChoice("family", _l("Family")),
            SelectChoice("household", _l("Household")),
            SelectChoice("teen", _l("Teen")),
        ],
    )
    guardian_id = SelectField(_l("Guardian"), choices=[], validate_choice=False)

    def validate_guardian_id(self, field: Any) -> None:
        if self.kind.data == "household":
            allowed = {str(choice.value) for choice in field.choices}
            if str(field.data) not in allowed:
                raise ValidationError(_l("Choose one of this child's guardians."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ServicePolicyForm(FlaskForm):
    office_days = MultiCheckboxField(
        _l("Office days"),
        choices=[SelectChoice(str(i), name) for i, name in enumerate(DAY_NAMES)],
        validators=[DataRequired(_l("Choose at least one office day."))],
    )
    opens_at = TimeField(_l("Opens at"), validators=[InputRequired()])
    closes_at = TimeField(_l("Closes at"), validators=[InputRequired()])
    reply_window_days = IntegerField(
        _l("Reply within (office days)"),
        validators=[
            InputRequired(),
            NumberRange(min=1, max=10, message=_l("1 to 10 office days.")),
        ],
    )

    def validate_closes_at(self, field: Any) -> None:
        if self.opens_at.data and field.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("Closing time must be after opening time."))
