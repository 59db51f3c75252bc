"""Checks on the source itself: unsafe rendering primitives (XS-02), bandit, data inside scripts
and attribute quoting (XS-04), and double-fire protection on every submit (RL-12)."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GATE = ROOT / ".ci" / "check_unsafe_rendering.py"
TEMPLATES = ROOT / "templates"


def run_gate(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GATE), str(root)], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "line",
    [
        "{{ message.body|safe }}",
        "{{ name | safe }}",
        "return Markup(user_text)",
        "render_template_string('<p>' + q + '</p>')",
        "{% autoescape false %}{{ x }}{% endautoescape %}",
        "Environment(autoescape=False)",
    ],
)
def test_XS02_the_gate_flags_each_unsafe_primitive(tmp_path: Path, line: str) -> None:
    (tmp_path / "portal").mkdir()
    (tmp_path / "templates").mkdir()
    target = "templates/page.html" if "{" in line else "portal/view.py"
    (tmp_path / target).write_text(f"first line\n{line}\n")

    result = run_gate(tmp_path)

    assert result.returncode == 1
    assert f"{target}:2:" in result.stdout


def test_XS02_the_gate_honours_an_explicit_allowlist_comment(tmp_path: Path) -> None:
    (tmp_path / "portal").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "portal" / "ok.py").write_text(
        "# XS-02 allowlist: constant markup, no user data\nLINK = Markup('<a>{0}</a>')\n"
        "EMPTY = Markup('')  # XS-02 allowlist: empty\n"
    )
    assert run_gate(tmp_path).returncode == 0


def test_XS02_the_code_base_passes_the_unsafe_rendering_gate() -> None:
    result = run_gate(ROOT)
    assert result.returncode == 0, result.stdout


def test_XS02_CF01_bandit_passes_and_fails_on_a_finding(tmp_path: Path) -> None:
    bandit = Path(sys.executable).parent / "bandit"
    config = str(ROOT / "pyproject.toml")
    clean = subprocess.run(
        [str(bandit), "-q", "-c", config, "-r", str(ROOT / "portal")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert clean.returncode == 0, clean.stdout
    (tmp_path / "bad.py").write_text(
        "from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n"
    )
    dirty = subprocess.run(
        [str(bandit), "-q", "-c", config, "-r", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert dirty.returncode == 1
    assert "B201" in dirty.stdout


# XS-04 ----------------------------------------------------------------------------------------


def templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def test_XS04_data_in_scripts_only_through_tojson_and_attributes_are_quoted() -> None:
    for path in templates():
        text = path.read_text()
        for block in re.findall(r"<script\b[^>]*>(.*?)</script>", text, re.DOTALL):
            for expression in re.findall(r"\{\{(.*?)\}\}", block, re.DOTALL):
                assert "|tojson" in expression.replace(" ", ""), f"{path}: {expression}"
        # data-hx-headers / data-hx-vals hold JSON: anything interpolated there goes through tojson.
        for attribute in re.findall(r"data-hx-(?:headers|vals)='([^']*)'", text):
            for expression in re.findall(r"\{\{(.*?)\}\}", attribute):
                assert "|tojson" in expression.replace(" ", "") or re.fullmatch(
                    r"\s*[\w.]+\s*", expression
                ), f"{path}: {expression}"
        unquoted = re.findall(r"[\w-]+=\{\{", text)
        assert not unquoted, f"{path}: unquoted attribute value {unquoted}"


# RL-12 ----------------------------------------------------------------------------------------


class SubmitFinder(HTMLParser):
    """Every submit control, with the attributes of the form around it."""

    def __init__(self) -> None:
        super().__init__()
        self.form: dict[str, str | None] | None = None
        self.submits: list[tuple[int, dict[str, str | None], dict[str, str | None] | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.form = attributes
        elif (tag == "button" and attributes.get("type", "submit") == "submit") or (
            tag == "input" and attributes.get("type") == "submit"
        ):
            self.submits.append((self.getpos()[0], attributes, self.form))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None


def guarded(attributes: dict[str, str | None]) -> bool:
    return "data-hx-disabled-elt" in attributes or "data-hx-sync" in attributes


def test_RL12_every_submit_is_guarded_against_a_double_fire() -> None:
    """htmx forms disable their button (data-hx-disabled-elt) or drop a second request
    (data-hx-sync);
    plain forms are guarded by static/js/forms.js, which base.html loads for every page."""
    base = (TEMPLATES / "base.html").read_text()
    assert "js/forms.js" in base
    forms_js = (ROOT / "static" / "js" / "forms.js").read_text()
    assert "preventDefault" in forms_js and "data-submitting" in forms_js
    problems = []
    for path in templates():
        finder = SubmitFinder()
        finder.feed(path.read_text())
        text = path.read_text()
        for line, button, form in finder.submits:
            where = f"{path.relative_to(ROOT)}:{line}"
            htmx = form is not None and any(
                k.startswith("data-hx-") for k in form if k != "data-hx-headers"
            )
            if form is not None and htmx:
                if not (guarded(button) or guarded(form)):
                    problems.append(f"{where}: htmx form without data-hx-disabled-elt/data-hx-sync")
            elif not guarded(button):
                partial = not path.name.startswith("_") and "base.html" not in text
                if partial and path.name != "base.html":
                    problems.append(f"{where}: plain form on a page that does not load forms.js")
    assert not problems, "\n".join(problems)
