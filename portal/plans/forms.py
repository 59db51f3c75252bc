from __future__ import annotations

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

from portal.models.plans import AssentChoice, GoalOwner, Informant, ProblemDomain, ProblemStatus

ZERO_TO_TEN = NumberRange(0, 10, "Use a number from 0 to 10.")


def _choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class ProblemForm(FlaskForm):
    child_words = StringField(
        "In the child's words",
        validators=[DataRequired("Write how the child says it."), Length(max=300)],
        description="e.g. “My tummy hurts when Mum leaves.”",
    )
    clinical_words = StringField(
        "In clinical words",
        validators=[DataRequired("Write the clinical description."), Length(max=300)],
    )
    domain = SelectField(
        "Area", choices=_choices([(d.value, d.label) for d in ProblemDomain]), default="other"
    )
    reported_by = StringField(
        "Who reported it",
        validators=[
            DataRequired("Say who raised it, e.g. mother, teacher, child."),
            Length(max=100),
        ],
    )
    severity_child = IntegerField("Child's rating (0–10)", validators=[Optional(), ZERO_TO_TEN])
    severity_guardian = IntegerField(
        "Guardian's rating (0–10)", validators=[Optional(), ZERO_TO_TEN]
    )
    severity_therapist = IntegerField("Your rating (0–10)", validators=[Optional(), ZERO_TO_TEN])


class MoveForm(FlaskForm):
    direction = SelectField("Direction", choices=_choices([("up", "Up"), ("down", "Down")]))


class SeverityForm(FlaskForm):
    informant = SelectField(
        "Who says so", choices=_choices([(i.value, i.value.capitalize()) for i in Informant])
    )
    severity = IntegerField(
        "Severity (0–10)", validators=[InputRequired("Give a number."), ZERO_TO_TEN]
    )


class ProblemStatusForm(FlaskForm):
    status = SelectField(
        "Status", choices=_choices([(s.value, s.value.capitalize()) for s in ProblemStatus])
    )


class CommentForm(FlaskForm):
    comment = TextAreaField(
        "Your comment",
        validators=[DataRequired("Please write a few words."), Length(max=2000)],
    )


class PlanDetailsForm(FlaskForm):
    edit_version = HiddenField()
    change_summary = TextAreaField(
        "What this version changes, for the family",
        validators=[Length(max=2000)],
        description="Plain words, e.g. “We add a goal about school mornings.”",
    )
    review_interval_days = IntegerField(
        "Review the plan every (days)",
        default=90,
        validators=[
            InputRequired("Give a number of days."),
            NumberRange(14, 365, "Use 14 to 365 days."),
        ],
    )


class BenchmarkForm(Form):
    measure = StringField("Measure", validators=[Optional(), Length(max=200)])
    target = StringField("Target", validators=[Optional(), Length(max=200)])
    due_on = DateField("By (date)", validators=[Optional()])


class GoalForm(FlaskForm):
    edit_version = HiddenField()
    child_text = StringField(
        "Goal in child-friendly words",
        validators=[
            DataRequired("Write the goal the way the child would say it."),
            Length(max=300),
        ],
    )
    clinical_text = TextAreaField(
        "Goal in clinical words",
        validators=[DataRequired("Write the clinical goal."), Length(max=500)],
    )
    owner = SelectField(
        "Who leads it",
        choices=_choices(
            [("child", "The child"), ("guardian", "The family"), ("shared", "Shared")]
        ),
        default=GoalOwner.SHARED.value,
    )
    problem_ids = SelectMultipleField(
        "Problems this goal works on",
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )
    benchmarks = FieldList(FormField(BenchmarkForm), min_entries=3, max_entries=3)


class InterventionForm(FlaskForm):
    what = StringField(
        "What we do", validators=[DataRequired("Say what is done."), Length(max=300)]
    )
    who = StringField("Who does it", validators=[DataRequired("Say who does it."), Length(max=100)])
    how_often = StringField(
        "How often", validators=[DataRequired("Say how often, e.g. weekly."), Length(max=100)]
    )


class ProposeForm(FlaskForm):
    edit_version = HiddenField()
    sign_off = BooleanField("I sign off this version as the therapist", default=True)


class GuardianResponseForm(FlaskForm):
    kind = RadioField(
        "Your answer",
        choices=_choices(
            [
                ("accept", "I accept this plan"),
                ("accept_with_comment", "I accept, with a comment"),
                ("request_changes", "I would like changes first"),
            ]
        ),
        validators=[DataRequired("Choose one answer.")],
    )
    comment = TextAreaField("Comment", validators=[Optional(), Length(max=2000)])


class AssentForm(FlaskForm):
    choice = RadioField(
        "Is this plan OK for you?",
        choices=_choices(
            [
                (AssentChoice.YES.value, "Yes, let's try"),
                (AssentChoice.NOT_SURE.value, "I'm not sure, but I'll try"),
                (AssentChoice.NO.value, "Not yet"),
            ]
        ),
        validators=[DataRequired("Choose one.")],
    )
    comment = TextAreaField("Anything you want to say?", validators=[Optional(), Length(max=1000)])


class ProgressForm(FlaskForm):
    value = IntegerField(
        "How is it going? (0 = not at all, 10 = really well)",
        validators=[InputRequired("Choose a number from 0 to 10."), ZERO_TO_TEN],
    )


class ResolveTaskForm(FlaskForm):
    note = StringField("Note (optional)", validators=[Optional(), Length(max=500)])
