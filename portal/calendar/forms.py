from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice

from portal.i18n import clock
from portal.i18n import lazy_gettext as _l

# Hours a family may pick for the practice reminder (clinic time); "" means none.
PRACTICE_HOURS = range(7, 21)


class RemindersForm(FlaskForm):
    reminders = BooleanField(_l("Email me reminders (the day before a session, and practice)"))
    practice_hour = SelectField(
        _l("Practice reminder, when the week's practice is behind"),
        choices=[],
        validate_choice=True,
    )

    def offer_hours(self) -> RemindersForm:
        from datetime import time

        self.practice_hour.choices = [SelectChoice("", _l("No practice reminder"))] + [
            SelectChoice(str(hour), clock(time(hour, 0))) for hour in PRACTICE_HOURS
        ]
        return self
