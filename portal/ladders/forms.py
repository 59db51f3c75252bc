from __future__ import annotations

import uuid
from typing import Any

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

from portal.ladders.services import PICTURES, REWARD_PICTURES, STICKERS
from portal.models.ladders import Completion, Ladder

FEAR_0_10 = NumberRange(0, 10, "Use a number from 0 to 10.")


def _choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def with_ids(form: FlaskForm, prefix: str) -> FlaskForm:
    """Several forms share a page: give their fields (and labels) distinct ids."""
    for form_field in form:
        form_field.id = form_field.label.field_id = f"{prefix}-{form_field.name}"
    return form


PICTURE_CHOICES = _choices([(p, p or "No picture") for p in PICTURES])


class LadderSettingsForm(FlaskForm):
    title = StringField(
        "Ladder name",
        validators=[
            DataRequired("Give the ladder a name, e.g. “Brave with dogs”."),
            Length(max=120),
        ],
    )
    mastery_peak_max = IntegerField(
        "Mastered when the worst fear is at most (0–10)",
        default=2,
        validators=[InputRequired("Give a number from 0 to 10."), FEAR_0_10],
    )
    mastery_days = IntegerField(
        "…on this many separate days",
        default=3,
        validators=[
            InputRequired("Give a number of days."),
            NumberRange(1, 10, "Use 1 to 10 days."),
        ],
    )
    weekly_target = IntegerField(
        "Practice target per week",
        default=4,
        validators=[InputRequired("Give a number."), NumberRange(1, 21, "Use 1 to 21 times.")],
    )


class LadderForm(LadderSettingsForm):
    goal = SelectField("For the goal", validators=[DataRequired("Choose a goal.")])


class StepForm(FlaskForm):
    title = StringField(
        "Step, in the child's words",
        validators=[
            DataRequired("Write the step, e.g. “Look at a dog on a video”."),
            Length(max=120),
        ],
    )
    picture = SelectField("Picture", choices=PICTURE_CHOICES, default="", validate_choice=True)
    instructions = TextAreaField("How to do it", validators=[Optional(), Length(max=1000)])
    fear_rating = DecimalField(
        "Fear rating (0–10)",
        places=1,
        validators=[InputRequired("Give the step a fear rating from 0 to 10."), FEAR_0_10],
        description="Halves are fine, e.g. 3.5.",
    )

    @property
    def fear_score(self) -> int:
        return round(float(self.fear_rating.data or 0) * 10)


class MoveForm(FlaskForm):
    direction = SelectField("Direction", choices=_choices([("up", "Up"), ("down", "Down")]))


class OverrideForm(FlaskForm):
    status = SelectField(
        "Set the step to",
        choices=_choices(
            [("mastered", "Mastered"), ("practising", "Practising"), ("available", "Open")]
        ),
    )


class DecisionForm(FlaskForm):
    decision = SelectField(
        "Answer", choices=_choices([("approve", "Add to the ladder"), ("decline", "Not now")])
    )
    fear_rating = DecimalField("Fear rating (0–10)", places=1, validators=[Optional(), FEAR_0_10])


class ButtonForm(FlaskForm):
    """A button that only needs the CSRF token."""


def _uuid(_form: Any, field: Any) -> None:
    try:
        uuid.UUID(field.data or "")
    except ValueError as exc:
        raise ValidationError("This form is out of date. Open the step again.") from exc


WHEN_CHOICES = _choices(
    [
        ("now", "Just now"),
        ("today", "Earlier today"),
        ("yesterday", "Yesterday"),
        ("2", "2 days ago"),
    ]
)


class PracticeForm(FlaskForm):
    idempotency_key = HiddenField(validators=[_uuid])
    when = RadioField("When did you practise?", choices=WHEN_CHOICES, default="now")
    fear_before = IntegerField("Before", validators=[Optional(), NumberRange(0, 10)])
    fear_peak = IntegerField(
        "At the worst moment",
        validators=[
            InputRequired("Choose how scared you felt at the worst moment."),
            NumberRange(0, 10),
        ],
    )
    fear_after = IntegerField("After", validators=[Optional(), NumberRange(0, 10)])
    completion = RadioField(
        "How much did you do?",
        choices=_choices([(c.value, c.label) for c in Completion]),
        default=Completion.FULL.value,
        validators=[InputRequired("Choose how much you did.")],
    )
    duration_minutes = IntegerField(
        "How many minutes?",
        validators=[Optional(), NumberRange(0, 600, "Use a number of minutes from 0 to 600.")],
    )
    coach = SelectField("Who helped?", default="")
    prediction = TextAreaField(
        "What I thought would happen", validators=[Optional(), Length(max=1000)]
    )
    outcome = TextAreaField("What really happened", validators=[Optional(), Length(max=1000)])
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])
    note_private = BooleanField("Keep this note private from my parents")

    def new_key(self) -> None:
        self.idempotency_key.data = str(uuid.uuid4())


class CheerForm(FlaskForm):
    sticker = RadioField(
        "Sticker",
        choices=_choices([(s, s) for s in STICKERS]),
        default=STICKERS[0],
        validators=[InputRequired("Choose a sticker.")],
    )
    message = StringField(
        "A line of praise",
        validators=[DataRequired("Write a few words of praise."), Length(max=140)],
    )


class SuggestStepForm(FlaskForm):
    ladder_id = SelectField("Ladder", coerce=int)
    title = StringField(
        "Idea for a step",
        validators=[DataRequired("Write your idea for a step."), Length(max=120)],
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
        "Reward",
        validators=[DataRequired("Write the reward, e.g. “Pizza night”."), Length(max=120)],
    )
    picture = SelectField(
        "Picture", choices=_choices([(p, p or "No picture") for p in REWARD_PICTURES])
    )
    cost = IntegerField(
        "Tokens it costs",
        validators=[
            InputRequired("Give a number of tokens."),
            NumberRange(1, 500, "Use 1 to 500."),
        ],
    )
