"""The admin report's filter: a GET form (it changes nothing, so it carries no CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from portal.i18n import lazy_gettext as _l


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    user = SelectField(_l("Person"), choices=[], default="")
    child = SelectField(_l("Child"), choices=[], default="")

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    @staticmethod
    def chosen_id(field: SelectField) -> int | None:
        return int(field.data) if field.data and str(field.data).isdigit() else None
