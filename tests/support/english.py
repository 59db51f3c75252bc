"""English left on a Spanish page (issue 13): the catalogue's English msgids, a page's visible
texts, and the check that finds an English message among them, whole, in its parts, or carried
inside a Spanish sentence. Used by the Spanish sweep of the demo (tests/test_spanish_demo.py) and
by the browser journeys that read a page in Spanish."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
POT = ROOT / "portal" / "translations" / "messages.pot"
SPANISH_PO = ROOT / "portal" / "translations" / "es" / "LC_MESSAGES" / "messages.po"
VISIBLE_ATTRIBUTES = {"aria-label", "placeholder", "title", "alt", "aria-valuetext"}
# Separators between the parts of one line of text ("Leo — goal:", "— Mother / Father").
PARTS = re.compile(r"\s*(?:—|–|/|·|:|\(|\)|,|;|\|)\s*")
DOUBLED_STOP = re.compile(r"[ap]\.\s?m\.\s*\.")
# Text people wrote (messages) stays as written, in the writer's language.
TYPED_BY_PEOPLE = {"message-body", "thread-preview", "typed"}


def _catalogue() -> tuple[set[str], list[re.Pattern[str]]]:
    """The English msgids a Spanish page must not show, and the Spanish sentences that carry a
    value (as patterns that capture it)."""
    with POT.open("rb") as pot:
        english = {
            str(part)
            for m in read_po(pot)
            if m.id
            for part in ([m.id] if isinstance(m.id, str) else m.id)
        }
    with SPANISH_PO.open("rb") as po:
        spanish = {m.id: m.string for m in read_po(po, locale="es") if m.id}
    # Words spelled alike in both languages ("Video", "No") are never a sign of English.
    same = {_bare(value) for value in spanish.values() if isinstance(value, str)}
    msgids = {
        _bare(text)
        for text in english
        if "%(" not in text and "<" not in text and re.search(r"[A-Za-z]{2}", text)
        if _bare(text) not in same and text not in {"Rapport", "English", "Español"}
    }
    carrying = []
    for value in spanish.values():
        for sentence in [value] if isinstance(value, str) else value:
            if "%(" in sentence and "<" not in sentence:
                pieces = re.split(r"%\(\w+\)[sd]", sentence)
                if len(max(pieces, key=len).strip()) >= 4:
                    carrying.append(
                        re.compile("^" + "(.+?)".join(map(re.escape, pieces)) + "$", re.S)
                    )
    return msgids, carrying


def _bare(text: str) -> str:
    return " ".join(text.split()).strip(" .!?¿¡:·—“”\"'").lower()


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._skip = 0
        self._typed: list[str] = []  # the tag names opened inside text people wrote
        self.flat = ""  # the page's text as one line, across tags ("p.m.</strong>.")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        values = dict(attrs)
        classes = set((values.get("class") or "").split())
        opens_typed = not self._typed and classes & TYPED_BY_PEOPLE
        if opens_typed or (self._typed and tag == self._typed[0]):
            self._typed.append(tag)
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        for name, value in attrs:
            shown = name in VISIBLE_ATTRIBUTES or (
                tag == "input" and name == "value" and values.get("type") in ("submit", "button")
            )
            if shown and value:
                self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        if self._typed and tag == self._typed[0]:
            self._typed.pop()

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if not self._skip and not self._typed and text:
            self.texts.append(text)
            self.flat += data


def english_left(texts: list[str], msgids: set[str], carrying: list[re.Pattern[str]]) -> list[str]:
    """The texts (or the parts of them) that are an English message of the catalogue, and times
    whose own full stop doubles the sentence's ("5:00 p.m..")."""
    found = []
    for text in texts:
        if DOUBLED_STOP.search(text):
            found.append(f"doubled full stop in {text!r}")
        candidates = {text, *PARTS.split(text)}
        for pattern in carrying:
            if match := pattern.match(text):
                candidates.update(group.strip() for group in match.groups())
        for candidate in candidates:
            if _bare(candidate) in msgids:
                found.append(f"{candidate!r} in {text!r}")
    return found
