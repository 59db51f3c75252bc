"""Find English left outside gettext in the templates (issue 8): every finding is file:line: text.

Three kinds of text reach a person:
- text between HTML tags, outside `{% trans %}` blocks;
- the user-visible attributes (aria-label, placeholder, title, alt, value of a button);
- string literals inside `{{ }}` / `{% %}` that read like words ("in person", "Send invitation")
  and are not an argument of `_()`, `gettext()` or `ngettext()`.
Jinja's own lexer reads the expressions; a template is split into its Jinja tags and HTML first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
TRANS_BLOCK = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", re.DOTALL)
VISIBLE_ATTRIBUTES = {"aria-label", "placeholder", "title", "alt", "aria-valuetext"}
GETTEXT_CALLS = {"_", "gettext", "ngettext", "pgettext", "npgettext", "lazy_gettext"}
# A literal that reads like words: a capital followed by a small letter, or two words.
WORDY = re.compile(r"[A-Z][a-z]|[A-Za-z]{2,}\s+[A-Za-z]{2,}|[a-z]…")
LETTERS = re.compile(r"[A-Za-z]{2,}")
PLACEHOLDER = "\x01"
THEME_CLASS = re.compile(r"\btheme-[a-z-]*")  # {% block theme %}theme-child{% endblock %}
# Text that is the same in every language: the product's name, units and symbols.
SAME_IN_EVERY_LANGUAGE = {"Rapport", "English", "Español", "htmx-config"}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


def _masked(source: str) -> str:
    """The template with each Jinja tag and trans block replaced by placeholders of equal length
    (newlines kept), so that HTML positions still point at the template's lines."""

    def blank(match: re.Match[str]) -> str:
        return "".join(ch if ch == "\n" else PLACEHOLDER for ch in match.group(0))

    return JINJA_TAG.sub(blank, TRANS_BLOCK.sub(blank, source))


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._skip = 0  # inside <script>/<style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        line = self.getpos()[0]
        for name, value in attrs:
            visible = name in VISIBLE_ATTRIBUTES or (
                tag == "input"
                and name == "value"
                and dict(attrs).get("type") in ("submit", "button")
            )
            if visible and value and _is_words(value):
                self.found.append((line, f"{name}={value!r}"))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip and _is_words(data):
            self.found.append((self.getpos()[0], data.strip()))


def _is_words(text: str) -> bool:
    bare = THEME_CLASS.sub(" ", text.replace(PLACEHOLDER, " "))
    words = [w for w in LETTERS.findall(bare) if w not in SAME_IN_EVERY_LANGUAGE]
    return bool(words)


ATTRIBUTE_OPEN = re.compile(r"([\w:-]+)=\"[^\"]*$")
COMPARISONS = {"==", "!=", "in"}
# Calls whose string arguments are code, not text shown to anyone.
NOT_SHOWN_CALLS = {
    "url_for",
    "startswith",
    "endswith",
    "get",
    "format",
    "join",
    "split",
    "replace",
    "dict",
}
# Values that are code: true/false, CSS classes and theme names.
CODE_WORD = re.compile(r"^(true|false|theme-[a-z-]+|[a-z]+(-[a-z]+)+)?$")


def _in_hidden_attribute(source: str, start: int) -> bool:
    """Is this Jinja tag inside an attribute nobody reads (class, data-hx-*, href, id...)?"""
    before = source[source.rfind("<", 0, start) : start]
    if ">" in before:
        return False
    opened = ATTRIBUTE_OPEN.search(before)
    return bool(opened) and opened.group(1) not in VISIBLE_ATTRIBUTES


def _expression_literals(env: Environment, source: str) -> Iterator[tuple[int, str]]:
    """String literals that read like words inside Jinja expressions, outside gettext calls
    (a literal compared with == / != / in is a value, not text)."""
    calls: list[str] = []
    previous_name = ""
    in_tag = ""
    line_offset = 0
    for tag in JINJA_TAG.finditer(source):
        text = tag.group(0)
        if text.startswith("{#") or _in_hidden_attribute(source, tag.start()):
            continue
        line_offset = source.count("\n", 0, tag.start())
        calls.clear()
        in_tag = text
        tokens = [t for t in env.lex(text) if t[1] != "whitespace"]
        for index, (lineno, kind, value) in enumerate(tokens):
            before = tokens[index - 1][2] if index else ""
            after = tokens[index + 1][2] if index + 1 < len(tokens) else ""
            if kind == "name":
                previous_name = value
                continue
            if kind == "operator" and value == "(":
                calls.append(previous_name)
            elif kind == "operator" and value == ")" and calls:
                calls.pop()
            elif (
                kind == "string"
                and not GETTEXT_CALLS.intersection(calls)
                and not COMPARISONS.intersection({before, after})
                and not NOT_SHOWN_CALLS.intersection(calls)
            ):
                literal = value[1:-1]
                first = in_tag.split()[1] if len(in_tag.split()) > 1 else ""
                if first in ("extends", "from", "import", "include", "block", "call"):
                    continue
                # A value picked by a condition or out of a dict is shown as it is: any word counts.
                chosen = (before in (":", "else") or after == "if") and not CODE_WORD.match(literal)
                chosen = chosen and bool(LETTERS.search(literal))
                if (WORDY.search(literal) or chosen) and literal not in SAME_IN_EVERY_LANGUAGE:
                    yield line_offset + lineno, literal
            previous_name = ""


def _keep_opening_tag(match: re.Match[str]) -> str:
    """A trans block's body is for translators; its opening tag's values are still checked."""
    block = match.group(0)
    opening = block[: block.index("%}") + 2]
    return opening + "\n" * block.count("\n", len(opening))


SHADOWS_GETTEXT = re.compile(r"\{%-?\s*(set|for)\s+_\s*(=|in\b)")


def untranslated_source(env: Environment, source: str, name: str) -> list[Finding]:
    parser = _Texts()
    parser.feed(_masked(source))
    parser.close()
    found = [Finding(name, line, text) for line, text in parser.found]
    outside_trans = TRANS_BLOCK.sub(_keep_opening_tag, source)
    found += [Finding(name, line, text) for line, text in _expression_literals(env, outside_trans)]
    # `{% set _ = ... %}` would hide gettext for the rest of the template.
    found += [
        Finding(name, source.count("\n", 0, m.start()) + 1, "assigns _ (hides gettext)")
        for m in SHADOWS_GETTEXT.finditer(source)
    ]
    return sorted(found, key=lambda f: f.line)


def untranslated(env: Environment, path: Path) -> list[Finding]:
    return untranslated_source(
        env, path.read_text(encoding="utf-8"), str(path.relative_to(TEMPLATES))
    )


def all_templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))
