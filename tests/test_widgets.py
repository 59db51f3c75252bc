"""portal/web/widgets.py: QuickSelect and QuickTextArea write exactly what wtforms' Select and
TextArea write, and `attributes` what `html_params` writes (issue 17: the same HTML for less
work), escaping included."""

from __future__ import annotations

import pytest
from markupsafe import Markup
from wtforms import Form, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import Select, TextArea, html_params

from portal.web.widgets import QuickSelect, QuickTextArea, attributes

TRICKY = [
    "",
    "plain",
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "Tom & Jerry's — “quotes”",
    "{{7*7}}",
]


def _field(widget: Select, *, required: bool, data: str, **choice_kw: object) -> SelectField:
    class F(Form):
        about = SelectField(
            "About",
            choices=[],
            validators=[DataRequired()] if required else [],
            widget=widget,
        )

    form = F(data={"about": data})
    form.about.choices = [SelectChoice("", "Nothing")] + [
        SelectChoice(f"goal:{n}:{text}", f"Kid — {text}") for n, text in enumerate(TRICKY)
    ]
    form.about.choices.append(SelectChoice("lazy", "", **choice_kw))  # type: ignore[arg-type]
    return form.about


@pytest.mark.parametrize("required", [False, True])
@pytest.mark.parametrize("data", ["", "goal:2:<script>alert(1)</script>", "lazy", "missing"])
@pytest.mark.parametrize("attrs", [{}, {"aria-describedby": "about-error", "aria-invalid": "true"}])
def test_quick_select_writes_what_wtforms_writes(
    required: bool, data: str, attrs: dict[str, str]
) -> None:
    quick = _field(QuickSelect(), required=required, data=data)
    plain = _field(Select(), required=required, data=data)
    assert str(quick(**attrs)) == str(plain(**attrs))
    assert "<script>" not in str(quick(**attrs))


def test_an_option_with_its_own_attributes_and_a_multiple_select_go_through_wtforms() -> None:
    quick = _field(QuickSelect(), required=False, data="lazy", render_kw={"disabled": True})
    plain = _field(Select(), required=False, data="lazy", render_kw={"disabled": True})
    assert str(quick()) == str(plain())
    assert "<option disabled selected" in str(quick())
    quick_many = _field(QuickSelect(multiple=True), required=False, data="")
    plain_many = _field(Select(multiple=True), required=False, data="")
    assert str(quick_many()) == str(plain_many())


@pytest.mark.parametrize("value", [*TRICKY, Markup('a "quoted" <b>word</b>'), 5000, None])
def test_attributes_write_what_html_params_writes(value: object) -> None:
    given = {
        "id": value,
        "class_": "wide",
        "for_": "body",
        "data_hx_vals": value,
        "aria_describedby": "body-error",
        "required": True,
        "disabled": False,
    }
    assert str(attributes(**given)) == str(html_params(**given))


@pytest.mark.parametrize("text", [*TRICKY, None])
@pytest.mark.parametrize("attrs", [{}, {"aria-describedby": "body-error", "aria-invalid": "true"}])
def test_quick_textarea_writes_what_wtforms_writes(text: str | None, attrs: dict[str, str]) -> None:
    def written(widget: TextArea) -> str:
        class F(Form):
            body = TextAreaField(
                "Message", validators=[DataRequired(), Length(max=5000)], widget=widget
            )

        return str(F(data={"body": text}).body(**attrs))

    assert written(QuickTextArea()) == written(TextArea())
    assert "<script>" not in written(QuickTextArea())
