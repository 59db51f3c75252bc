"""Form widgets that write exactly what wtforms' own write, for less work on a hot page."""

from __future__ import annotations

from typing import Any, cast

from markupsafe import Markup, escape
from wtforms.widgets import Select, TextArea
from wtforms.widgets.core import clean_key


def attributes(**kwargs: Any) -> Markup:
    """wtforms' `html_params`, the same text: the attributes sorted by name, `True` written as
    the bare name, `False` left out, names and values escaped. Each `name="value"` is joined as
    a string, not through `Markup.format` (a Python string formatter, ~30 calls an attribute)."""
    params = []
    for key, value in sorted(kwargs.items()):
        name = escape(clean_key(key))
        if value is True:
            params.append(str(name))
        elif value is not False:
            # As html_params: a value's own markup keeps its text, a double quote in it ends no
            # attribute.
            params.append(f'{name}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    # XS-02 allowlist: every name and value above is escaped, as wtforms' html_params does.
    return Markup(" ".join(params))  # noqa: S704  # nosec B704


class QuickSelect(Select):
    """wtforms' `Select`, the same HTML, each plain option (a str value and label, no attributes
    of its own) written directly: wtforms builds, sorts and escapes an attribute dict per option
    and looks up `render_option`'s signature on every render (issue 17: the thread page's
    "About" list of fifteen choices cost more than its fifty messages' bodies). A multiple
    select, option groups and any other option go through wtforms."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        if self.multiple or field.has_groups():
            return cast(Markup, super().__call__(field, **kwargs))
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        html = [f"<select {attributes(name=field.name, **kwargs)}>"]
        for choice in field._iter_choices_normalized():
            value, label = choice.value, choice.label
            if choice.render_kw or not isinstance(value, str) or not isinstance(label, str):
                html.append(Select.render_option(choice))
            else:
                selected = "selected " if choice.selected else ""
                words = escape(label or value)
                html.append(f'<option {selected}value="{escape(value)}">{words}</option>')
        html.append("</select>")
        # XS-02 allowlist: every value and label above is escaped, as wtforms' Select does.
        return Markup("".join(html))  # noqa: S704  # nosec B704


class QuickTextArea(TextArea):
    """wtforms' `TextArea`, the same HTML, its attributes written by `attributes` (issue 17)."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        params, text = attributes(name=field.name, **kwargs), escape(field._value())
        html = f"<textarea {params}>\r\n{text}</textarea>"
        # XS-02 allowlist: the attributes and the text are escaped, as wtforms' TextArea does.
        return Markup(html)  # noqa: S704  # nosec B704
