from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

ZERO_TO_TEN = NumberRange(0, 10, "Choose a number from 0 to 10.")


def _scale(label: str) -> RadioField:
    return RadioField(
        label,
        choices=[SelectChoice(str(n), str(n)) for n in range(11)],
        coerce=int,
        validators=[InputRequired("Choose a number from 0 to 10.")],
    )


class SessionForm(FlaskForm):
    day = DateField("Date", validators=[DataRequired("Enter the date, e.g. 2026-11-24.")])
    time = TimeField("Time", validators=[DataRequired("Enter the time, e.g. 16:00.")])
    mode = SelectField(
        "How",
        choices=[SelectChoice("in_person", "In person"), SelectChoice("video", "Video")],
    )
    status = SelectField(
        "What happened",
        choices=[
            SelectChoice("scheduled", "Planned (next session)"),
            SelectChoice("held", "Held"),
            SelectChoice("missed", "Missed"),
            SelectChoice("cancelled", "Cancelled"),
        ],
    )
    attendees = StringField(
        "Who came", validators=[Optional(), Length(max=200)], description="e.g. Leo and David"
    )


class SessionStatusForm(FlaskForm):
    status = SelectField(
        "Status",
        choices=[
            SelectChoice("held", "Held"),
            SelectChoice("missed", "Missed"),
            SelectChoice("cancelled", "Cancelled"),
        ],
    )


class GuardianFeedbackForm(FlaskForm):
    idempotency_key = HiddenField()
    heard = _scale("I felt heard and understood")
    matters = _scale("We worked on what matters to us")
    approach = _scale("The way we work suits our family")
    overall = _scale("Overall, how helpful was this session?")
    comment = TextAreaField(
        "Anything you want the therapist to know? (optional)",
        validators=[Optional(), Length(max=2000, message="Please keep it under 2,000 characters.")],
    )


class ChildFeedbackForm(FlaskForm):
    idempotency_key = HiddenField()
    raw = IntegerField("How was it?", validators=[InputRequired("Choose one."), ZERO_TO_TEN])
    comment = TextAreaField("Anything else? (optional)", validators=[Optional(), Length(max=1000)])


class CheckinForm(FlaskForm):
    idempotency_key = HiddenField()
    week = HiddenField()
    practice_days = IntegerField(
        "On how many days did practice happen?",
        validators=[InputRequired("Give a number from 0 to 7."), NumberRange(0, 7, "Use 0 to 7.")],
    )
    difficulty = _scale("How hard was the week for the family? (0 = easy, 10 = very hard)")
    accommodations = TextAreaField(
        "What did the family do to spare your child anxiety?",
        validators=[Optional(), Length(max=2000)],
        description="For example: staying in the room, answering the same question again, "
        "avoiding the park.",
    )
    reducing = StringField(
        "Which one are you working to do less of? (one at a time)",
        validators=[Optional(), Length(max=300)],
    )
    observation = TextAreaField(
        "Anything you noticed this week? (optional)", validators=[Optional(), Length(max=2000)]
    )


class AnswerForm(FlaskForm):
    answer = TextAreaField(
        "Your answer to the family (“you said, we did”)",
        validators=[DataRequired("Write your answer."), Length(max=2000)],
    )


class ResolveAlertForm(FlaskForm):
    note = StringField("What you did (optional)", validators=[Optional(), Length(max=500)])
