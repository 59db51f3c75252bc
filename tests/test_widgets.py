"""portal/web/widgets.py: QuickSelect writes exactly what wtforms' Select writes (issue 17: the
same HTML for less work), escaping included."""

from __future__ import annotations

import pytest
from wtforms import Form, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.widgets import Select

from portal.web.widgets import QuickSelect

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
