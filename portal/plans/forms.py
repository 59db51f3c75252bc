from __future__ import annotations

from flask_babel import LazyString
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.i18n import lazy_gettext as _l
from portal.models.plans import AssentChoice, GoalOwner, Informant, ProblemDomain, ProblemStatus

ZERO_TO_TEN = NumberRange(0, 10, _l("Use a number from 0 to 10."))


def _choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class ProblemForm(FlaskForm):
    child_words = StringField(
        _l("In the child's words"),
        validators=[DataRequired(_l("Write how the child says it.")), Length(max=300)],
        description=_l("e.g. “My tummy hurts when Mum leaves.”"),
    )
    clinical_words = StringField(
        _l("In clinical words"),
        validators=[DataRequired(_l("Write the clinical description.")), Length(max=300)],
    )
    domain = SelectField(
        _l("Area"),
        choices=_choices([(d.value, LazyString(lambda d=d: d.label)) for d in ProblemDomain]),
        default="other",
    )
    reported_by = StringField(
        _l("Who reported it"),
        validators=[
            DataRequired(_l("Say who raised it, e.g. mother, teacher, child.")),
            Length(max=100),
        ],
    )
    severity_child = IntegerField(_l("Child's rating (0–10)"), validators=[Optional(), ZERO_TO_TEN])
    severity_guardian = IntegerField(
        _l("Guardian's rating (0–10)"), validators=[Optional(), ZERO_TO_TEN]
    )
    severity_therapist = IntegerField(
        _l("Your rating (0–10)"), validators=[Optional(), ZERO_TO_TEN]
    )


class MoveForm(FlaskForm):
    direction = SelectField(
        _l("Direction"), choices=_choices([("up", _l("Up")), ("down", _l("Down"))])
    )


class SeverityForm(FlaskForm):
    informant = SelectField(
        _l("Who says so"), choices=_choices([(i.value, i.value.capitalize()) for i in Informant])
    )
    severity = IntegerField(
        _l("Severity (0–10)"), validators=[InputRequired(_l("Give a number.")), ZERO_TO_TEN]
    )


class ProblemStatusForm(FlaskForm):
    status = SelectField(
        _l("Status"), choices=_choices([(s.value, s.value.capitalize()) for s in ProblemStatus])
    )


class CommentForm(FlaskForm):
    comment = TextAreaField(
        _l("Your comment"),
        validators=[DataRequired(_l("Please write a few words.")), Length(max=2000)],
    )


class PlanDetailsForm(FlaskForm):
    edit_version = HiddenField()
    change_summary = TextAreaField(
        _l("What this version changes, for the family"),
        validators=[Length(max=2000)],
        description=_l("Plain words, e.g. “We add a goal about school mornings.”"),
    )
    review_interval_days = IntegerField(
        _l("Review the plan every (days)"),
        default=90,
        validators=[
            InputRequired(_l("Give a number of days.")),
            NumberRange(14, 365, _l("Use 14 to 365 days.")),
        ],
    )


class BenchmarkForm(Form):
    measure = StringField(_l("Measure"), validators=[Optional(), Length(max=200)])
    target = StringField(_l("Target"), validators=[Optional(), Length(max=200)])
    due_on = DateField(_l("By (date)"), validators=[Optional()])


class GoalForm(FlaskForm):
    edit_version = HiddenField()
    child_text = StringField(
        _l("Goal in child-friendly words"),
        validators=[
            DataRequired(_l("Write the goal the way the child would say it.")),
            Length(max=300),
        ],
    )
    clinical_text = TextAreaField(
        _l("Goal in clinical words"),
        validators=[DataRequired(_l("Write the clinical goal.")), Length(max=500)],
    )
    owner = SelectField(
        _l("Who leads it"),
        choices=_choices(
            [("child", _l("The child")), ("guardian", _l("The family")), ("shared", _l("Shared"))]
        ),
        default=GoalOwner.SHARED.value,
    )
    problem_ids = SelectMultipleField(
        _l("Problems this goal works on"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )
    benchmarks = FieldList(FormField(BenchmarkForm), min_entries=3, max_entries=3)


class InterventionForm(FlaskForm):
    what = StringField(
        _l("What we do"), validators=[DataRequired(_l("Say what is done.")), Length(max=300)]
    )
    who = StringField(
        _l("Who does it"), validators=[DataRequired(_l("Say who does it.")), Length(max=100)]
    )
    how_often = StringField(
        _l("How often"),
        validators=[DataRequired(_l("Say how often, e.g. weekly.")), Length(max=100)],
    )


class ProposeForm(FlaskForm):
    edit_version = HiddenField()
    sign_off = BooleanField(_l("I sign off this version as the therapist"), default=True)


class GuardianResponseForm(FlaskForm):
    kind = RadioField(
        _l("Your answer"),
        choices=_choices(
            [
                ("accept", _l("I accept this plan")),
                ("accept_with_comment", _l("I accept, with a comment")),
                ("request_changes", _l("I would like changes first")),
            ]
        ),
        validators=[DataRequired(_l("Choose one answer."))],
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])


class AssentForm(FlaskForm):
    choice = RadioField(
        _l("Is this plan OK for you?"),
        choices=_choices(
            [
                (AssentChoice.YES.value, _l("Yes, let's try")),
                (AssentChoice.NOT_SURE.value, _l("I'm not sure, but I'll try")),
                (AssentChoice.NO.value, _l("Not yet")),
            ]
        ),
        validators=[DataRequired(_l("Choose one."))],
    )
    comment = TextAreaField(
        _l("Anything you want to say?"), validators=[Optional(), Length(max=1000)]
    )


class ProgressForm(FlaskForm):
    value = IntegerField(
        _l("How is it going? (0 = not well at all, 10 = really well)"),
        validators=[InputRequired(_l("Choose a number from 0 to 10.")), ZERO_TO_TEN],
    )


class ResolveTaskForm(FlaskForm):
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])
