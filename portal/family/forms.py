from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from portal.i18n import lazy_gettext as _l
from portal.models import ConsentAction


class ConsentForm(FlaskForm):
    # Radio buttons, not a list box: the documents' names are long, and a phone cut them off.
    kind = RadioField(_l("Consent"), validators=[DataRequired(_l("Choose which consent."))])
    action = RadioField(
        _l("Your choice"),
        choices=[
            SelectChoice(ConsentAction.GRANTED.value, _l("I agree")),
            SelectChoice(ConsentAction.REVOKED.value, _l("I withdraw my agreement")),
        ],
        validators=[DataRequired(_l("Choose whether you agree or withdraw."))],
    )
    # A withdrawal happens only once the person has read what it changes and confirmed.
    confirm = HiddenField()


class AgreeTermsForm(FlaskForm):
    """Agreeing again to the terms of use, asked at sign-in after they were withdrawn."""


__all__ = ["AgreeTermsForm", "ConsentForm"]
