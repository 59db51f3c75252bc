from __future__ import annotations

from typing import Any

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
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.i18n import lazy_gettext as _l
from portal.ladders.services import STICKERS

ZERO_TO_TEN = NumberRange(0, 10, _l("Choose a number from 0 to 10."))
NOT_AT_ALL = _l("0 = not at all")
COMPLETELY = _l("10 = completely")


class ScaleField(RadioField):
    """A 0-10 answer whose two ends have their own words ("0 = easy" / "10 = very hard"), so
    the question and the words under its numbers always agree (feedback/_scale.html)."""

    def __init__(self, label: Any, ends: tuple[Any, Any], **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.ends = ends


def _scale(label: Any, low: Any, high: Any) -> ScaleField:
    return ScaleField(
        label,
        ends=(low, high),
        choices=[SelectChoice(str(n), str(n)) for n in range(11)],
        coerce=int,
        validators=[InputRequired(_l("Choose a number from 0 to 10."))],
    )


class SessionForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired(_l("Enter the date, e.g. 2026-11-24."))])
    time = TimeField(_l("Time"), validators=[DataRequired(_l("Enter the time, e.g. 16:00."))])
    mode = SelectField(
        _l("How"),
        choices=[SelectChoice("in_person", _l("In person")), SelectChoice("video", _l("Video"))],
    )
    status = SelectField(
        _l("What happened"),
        choices=[
            SelectChoice("scheduled", _l("Planned (next session)")),
            SelectChoice("held", _l("Held")),
            SelectChoice("missed", _l("Missed")),
            SelectChoice("cancelled", _l("Cancelled")),
        ],
    )
    attendees = StringField(
        _l("Anyone else who came (optional)"),
        validators=[Optional(), Length(max=200)],
        description=_l("e.g. an interpreter, a grandparent"),
    )
    next_day = DateField(_l("Next session: date (optional)"), validators=[Optional()])
    next_time = TimeField(_l("Next session: time (optional)"), validators=[Optional()])

    cheer_sticker = SelectField(
        _l("Send a cheer with it (optional)"),
        choices=[SelectChoice("", _l("No cheer")), *[SelectChoice(s, s) for s in STICKERS]],
        validators=[Optional()],
    )
    cheer_message = StringField(
        _l("A line of praise"),
        validators=[Optional(), Length(max=140, message=_l("Keep it under 140 characters."))],
        description=_l("The child sees it on their practice screen, beside their latest try."),
    )

    def validate_next_time(self, field: TimeField) -> None:
        if bool(self.next_day.data) != bool(field.data):
            raise ValidationError(_l("Give both the date and the time of the next session."))


class SessionStatusForm(FlaskForm):
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("held", _l("Held")),
            SelectChoice("missed", _l("Missed")),
            SelectChoice("cancelled", _l("Cancelled")),
        ],
    )


class GuardianFeedbackForm(FlaskForm):
    idempotency_key = HiddenField()
    heard = _scale(_l("I felt heard and understood"), NOT_AT_ALL, COMPLETELY)
    matters = _scale(_l("We worked on what matters to us"), NOT_AT_ALL, COMPLETELY)
    approach = _scale(_l("The way we work suits our family"), NOT_AT_ALL, COMPLETELY)
    overall = _scale(
        _l("Overall, how helpful was this session?"),
        _l("0 = not helpful"),
        _l("10 = very helpful"),
    )
    comment = TextAreaField(
        _l("Anything you want the therapist to know? (optional)"),
        validators=[
            Optional(),
            Length(max=2000, message=_l("Please keep it under 2,000 characters.")),
        ],
    )


class ChildFeedbackForm(FlaskForm):
    idempotency_key = HiddenField()
    raw = IntegerField(
        _l("How was it?"), validators=[InputRequired(_l("Choose one.")), ZERO_TO_TEN]
    )
    comment = TextAreaField(
        _l("Anything else? (optional)"), validators=[Optional(), Length(max=1000)]
    )


class CheckinForm(FlaskForm):
    idempotency_key = HiddenField()
    week = HiddenField()
    practice_days = IntegerField(
        _l("On how many days did practice happen?"),
        validators=[
            InputRequired(_l("Give a number from 0 to 7.")),
            NumberRange(0, 7, _l("Use 0 to 7.")),
        ],
    )
    difficulty = _scale(
        _l("How hard was the week for the family?"), _l("0 = easy"), _l("10 = very hard")
    )
    accommodations = TextAreaField(
        _l("What did the family do to spare your child anxiety?"),
        validators=[Optional(), Length(max=2000)],
        description=_l(
            "For example: staying in the room, answering the same question again, "
            "avoiding the park."
        ),
    )
    reducing = StringField(
        _l("Which one are you working to do less of? (one at a time)"),
        validators=[Optional(), Length(max=300)],
    )
    observation = TextAreaField(
        _l("Anything you noticed this week? (optional)"), validators=[Optional(), Length(max=2000)]
    )


class AnswerForm(FlaskForm):
    answer = TextAreaField(
        _l("Your answer to the family (“you said, we did”)"),
        validators=[DataRequired(_l("Write your answer.")), Length(max=2000)],
    )


class ResolveAlertForm(FlaskForm):
    note = StringField(_l("What you did (optional)"), validators=[Optional(), Length(max=500)])


class FamilyNoteForm(FlaskForm):
    """ "How is it going?": a guardian's few lines, whenever they like."""

    idempotency_key = HiddenField()
    mood = RadioField(
        _l("How is it going?"),
        choices=[
            SelectChoice("good", _l("Going well")),
            SelectChoice("mixed", _l("Some good, some hard")),
            SelectChoice("hard", _l("Hard at the moment")),
        ],
        validators=[InputRequired(_l("Choose how it is going."))],
    )
    text = TextAreaField(
        _l("Tell us more (optional)"),
        validators=[
            Optional(),
            Length(max=2000, message=_l("Please keep it under 2,000 characters.")),
        ],
    )


class AgendaForm(FlaskForm):
    text = TextAreaField(
        _l("Agenda for the next session (therapists only)"),
        validators=[
            Optional(),
            Length(max=2000, message=_l("Please keep the agenda under 2,000 characters.")),
        ],
        render_kw={"rows": 6},
    )


class PredictionForm(FlaskForm):
    """The therapist's reading of a practice entry: did what the child feared happen?"""

    came_true = RadioField(
        _l("Did the feared outcome happen?"),
        choices=[
            SelectChoice("no", _l("It did not happen")),
            SelectChoice("yes", _l("It happened")),
            SelectChoice("clear", _l("Unmark")),
        ],
        validators=[InputRequired()],
    )

    @property
    def verdict(self) -> bool | None:
        return {"no": False, "yes": True}.get(self.came_true.data or "")
