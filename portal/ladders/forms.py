from __future__ import annotations

import uuid
from typing import Any

from flask_babel import LazyString
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.i18n import lazy_gettext as _l
from portal.ladders.pictures import SITUATIONS
from portal.ladders.services import REWARD_PICTURES, STICKERS
from portal.models.ladders import Completion, Ladder

FEAR_0_10 = NumberRange(0, 10, _l("Use a number from 0 to 10."))


def _choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def with_ids(form: FlaskForm, prefix: str) -> FlaskForm:
    """Several forms share a page: give their fields (and labels) distinct ids."""
    for form_field in form:
        form_field.id = form_field.label.field_id = f"{prefix}-{form_field.name}"
    return form


PICTURE_CHOICES = [SelectChoice("", _l("No picture"))] + [
    SelectChoice(key, picture.alt) for key, picture in SITUATIONS.items()
]


class LadderSettingsForm(FlaskForm):
    title = StringField(
        _l("Ladder name"),
        validators=[
            DataRequired(_l("Give the ladder a name, e.g. “Brave with dogs”.")),
            Length(max=120),
        ],
        id="ladder-title",  # the ladder page also holds the new step's form (ids are per page)
    )
    mastery_peak_max = IntegerField(
        _l("Mastered when the worst fear is at most (0–10)"),
        default=2,
        validators=[InputRequired(_l("Give a number from 0 to 10.")), FEAR_0_10],
    )
    mastery_days = IntegerField(
        _l("…on this many separate days"),
        default=3,
        validators=[
            InputRequired(_l("Give a number of days.")),
            NumberRange(1, 10, _l("Use 1 to 10 days.")),
        ],
    )
    weekly_target = IntegerField(
        _l("Practice target per week"),
        default=4,
        validators=[
            InputRequired(_l("Give a number.")),
            NumberRange(1, 21, _l("Use 1 to 21 times.")),
        ],
    )


class LadderForm(LadderSettingsForm):
    goal = SelectField(_l("For the goal"), validators=[DataRequired(_l("Choose a goal."))])


class StepForm(FlaskForm):
    title = StringField(
        _l("Step, in the child's words"),
        validators=[
            DataRequired(_l("Write the step, e.g. “Look at a dog on a video”.")),
            Length(max=120),
        ],
    )
    picture = SelectField(_l("Picture"), choices=PICTURE_CHOICES, default="", validate_choice=True)
    instructions = TextAreaField(_l("How to do it"), validators=[Optional(), Length(max=1000)])
    fear_rating = DecimalField(
        _l("Fear rating (0–10)"),
        places=1,
        validators=[InputRequired(_l("Give the step a fear rating from 0 to 10.")), FEAR_0_10],
        description=_l("Halves are fine, e.g. 3.5."),
    )

    @property
    def fear_score(self) -> int:
        return round(float(self.fear_rating.data or 0) * 10)


class MoveForm(FlaskForm):
    direction = SelectField(
        _l("Direction"), choices=_choices([("up", _l("Up")), ("down", _l("Down"))])
    )


class OverrideForm(FlaskForm):
    status = SelectField(
        _l("Set the step to"),
        choices=_choices(
            [
                ("mastered", _l("Mastered")),
                ("practising", _l("Practising")),
                ("available", _l("Open")),
            ]
        ),
    )


class DecisionForm(FlaskForm):
    decision = SelectField(
        _l("Answer"),
        choices=_choices([("approve", _l("Add to the ladder")), ("decline", _l("Not now"))]),
    )
    fear_rating = DecimalField(
        _l("Fear rating (0–10)"), places=1, validators=[Optional(), FEAR_0_10]
    )


class ButtonForm(FlaskForm):
    """A button that only needs the CSRF token."""


def _uuid(_form: Any, field: Any) -> None:
    try:
        uuid.UUID(field.data or "")
    except ValueError as exc:
        raise ValidationError(_l("This form is out of date. Open the step again.")) from exc


WHEN_CHOICES = _choices(
    [
        ("now", _l("Just now")),
        ("today", _l("Earlier today")),
        ("yesterday", _l("Yesterday")),
        ("2", _l("2 days ago")),
    ]
)


class PracticeForm(FlaskForm):
    # The label WTForms would make up (it is never shown), given so that building the form does
    # not load WTForms' own catalogue from disk on every request to translate it (issue 17).
    idempotency_key = HiddenField("Idempotency Key", validators=[_uuid])
    when = RadioField(_l("When did you practise?"), choices=WHEN_CHOICES, default="now")
    fear_before = IntegerField(_l("Before"), validators=[Optional(), NumberRange(0, 10)])
    fear_peak = IntegerField(
        _l("At the worst moment"),
        validators=[
            InputRequired(_l("Choose how scared you felt at the worst moment.")),
            NumberRange(0, 10),
        ],
    )
    fear_after = IntegerField(_l("After"), validators=[Optional(), NumberRange(0, 10)])
    completion = RadioField(
        _l("How much did you do?"),
        choices=_choices([(c.value, LazyString(lambda c=c: c.label)) for c in Completion]),
        default=Completion.FULL.value,
        validators=[InputRequired(_l("Choose how much you did."))],
    )
    duration_minutes = IntegerField(
        _l("How many minutes?"),
        validators=[Optional(), NumberRange(0, 600, _l("Use a number of minutes from 0 to 600."))],
    )
    coach = SelectField(_l("Who helped?"), default="")
    prediction = TextAreaField(
        _l("What I thought would happen"), validators=[Optional(), Length(max=1000)]
    )
    outcome = TextAreaField(_l("What really happened"), validators=[Optional(), Length(max=1000)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    note_private = BooleanField(_l("Keep this note private from my parents"))

    def new_key(self) -> None:
        self.idempotency_key.data = str(uuid.uuid4())


class CheerForm(FlaskForm):
    sticker = RadioField(
        _l("Sticker"),
        choices=_choices([(s, s) for s in STICKERS]),
        default=STICKERS[0],
        validators=[InputRequired(_l("Choose a sticker."))],
    )
    message = StringField(
        _l("A line of praise"),
        validators=[DataRequired(_l("Write a few words of praise.")), Length(max=140)],
    )


class SuggestStepForm(FlaskForm):
    ladder_id = SelectField(_l("Ladder"), coerce=int)
    title = StringField(
        _l("Idea for a step"),
        validators=[DataRequired(_l("Write your idea for a step.")), Length(max=120)],
        id="idea-title",  # shares the progress page with the reward form
    )


def suggest_step_form(ladders: list[Ladder], formdata: Any = None) -> SuggestStepForm:
    """With a single ladder the idea is for that ladder: the form needs no choice."""
    form = (
        SuggestStepForm(formdata=formdata)
        if formdata is not None
        else SuggestStepForm(formdata=None)
    )
    form.ladder_id.choices = [SelectChoice(lad.id, lad.title) for lad in ladders]
    if formdata is not None and "ladder_id" not in formdata and len(ladders) == 1:
        form.ladder_id.data = ladders[0].id
    return form


class RewardForm(FlaskForm):
    title = StringField(
        _l("Reward"),
        validators=[DataRequired(_l("Write the reward, e.g. “Pizza night”.")), Length(max=120)],
        id="reward-title",  # shares the progress page with the step-idea form
    )
    picture = SelectField(
        _l("Picture"),
        choices=_choices([(p, p or _l("No picture")) for p in REWARD_PICTURES]),
        id="reward-picture",
    )
    cost = IntegerField(
        _l("Tokens it costs"),
        validators=[
            InputRequired(_l("Give a number of tokens.")),
            NumberRange(1, 500, _l("Use 1 to 500.")),
        ],
    )
