"""portal/web/templating.py's template class: an import of macros answers as Jinja's own does
(issue 17: the same test, made on sets), the module kept when the page has no globals the
imported template lacks, a fresh one that sees them when it has."""

from __future__ import annotations

from flask import Flask
from jinja2 import DictLoader, Template


def test_imports_use_the_kept_module_and_see_a_pages_own_globals(app: Flask) -> None:
    env = app.jinja_env.overlay(
        loader=DictLoader(
            {
                "macros.html": (
                    "{% macro shout(x) %}{{ x|upper }}{{ extra|default('') }}{% endmacro %}"
                ),
                "page.html": '{% from "macros.html" import shout %}{{ shout("hi") }}',
            }
        )
    )
    assert env.template_class is app.jinja_env.template_class is not Template
    page = env.get_template("page.html")
    macros = env.get_template("macros.html")
    assert page.render() == "HI"
    kept = macros.module
    assert page.render() == "HI" and macros.module is kept  # nothing new: Jinja's kept module
    with_extra = env.get_template("page.html", globals={"extra": "!"})
    assert with_extra.render() == "HI!"  # the page's own global reaches the imported macro
    assert macros.module is kept
