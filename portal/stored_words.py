"""Words stored for later (issues 13, 14): a sentence Python writes into the database for a person
to read later is stored as its msgid and its parameters, never as a sentence in one language.

It is put into words when it is read, in the reader's language: a care alert raised while the
guardian whose answer raised it reads Spanish is read in English by an English-reading therapist,
and in Spanish by a Spanish-reading one. Dates are written for the reader (language and time
zone), numbers in the reader's digits, and the catalogue's own words (an item of the feedback
form, a consent's title) in the reader's language; names and anything else a person typed are
shown as typed.

    raise_alert(..., stored(N_("%(who)s rated low: %(items)s"), who=name, items=word_list(...)))
    alert.summary_text   # rendered now, for whoever reads

- `N_("…")` marks a msgid for `make translations` (Babel extracts `N_` by default) and returns it
  untranslated: the translation happens at read time.
- `stored(msgid, **params)` makes `Words`; a parameter is a str or int as is, `word(msgid)` (a
  catalogue word, translated when read), `word_list([...])` (several, joined the reader's way),
  `day(date_or_datetime)` (a date for the reader), or a `LazyString` (its msgid is kept).
- `WordsType` stores `Words` in one JSON column: `{"msgid": "...", "params": {...}}`.
- `said(words, fallback)`: the words in the reader's language, or the fallback (the text a row
  written before this mechanism holds) when a row has none.

Stored words never contain HTML; templates escape them like any other text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from babel.lists import format_list
from babel.numbers import format_decimal
from flask_babel import force_locale
from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from portal.i18n import (
    DEFAULT_LANGUAGE,
    REGIONAL,
    current_locale,
    gettext,
    local_date,
    local_datetime,
)


def N_(msgid: str) -> str:
    """Marks `msgid` for the catalogue and returns it untranslated: said when it is read."""
    return msgid


def msgid_of(text: Any) -> str:
    """The msgid behind a lazily translated string (`lazy_gettext("…")`), or the str itself."""
    if isinstance(text, str):
        return text
    args = getattr(text, "_args", None)  # flask_babel.LazyString(gettext, msgid)
    if args and isinstance(args[0], str):
        return args[0]
    raise TypeError(f"not a msgid: {text!r}")


def word(msgid: Any) -> dict[str, str]:
    """A word from the catalogue as a parameter: translated when read."""
    return {"word": msgid_of(msgid)}


def word_list(msgids: Iterable[Any]) -> dict[str, list[str]]:
    """Several catalogue words, translated and joined the reader's way ("a, b and c")."""
    return {"words": [msgid_of(m) for m in msgids]}


def day(value: date | datetime, shape: str = "day") -> dict[str, str]:
    """A day as a parameter, written for the reader (`portal.i18n.DATE_SHAPES`); a moment is
    turned into the reader's own time zone first."""
    if isinstance(value, datetime):
        return {"moment": value.isoformat(), "shape": shape}
    return {"date": value.isoformat(), "shape": shape}


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        raise TypeError("a yes/no is not a stored word; say it in the msgid")
    if isinstance(value, str | int | dict):
        return value
    if isinstance(value, datetime | date):
        return day(value)
    return word(value)  # a LazyString


def _shown(value: Any) -> str:
    locale = current_locale()
    if isinstance(value, int):
        return str(format_decimal(value, locale=locale))
    if isinstance(value, dict):
        if "word" in value:
            return gettext(value["word"])
        if "words" in value:
            return str(format_list([gettext(m) for m in value["words"]], locale=locale))
        if "moment" in value:
            return local_datetime(
                datetime.fromisoformat(value["moment"]), value.get("shape", "day")
            )
        if "date" in value:
            return local_date(date.fromisoformat(value["date"]), value.get("shape", "day"))
    return str(value)


@dataclass(frozen=True)
class Words:
    """A sentence for later: its msgid and parameters (JSON-friendly), said when read."""

    msgid: str
    params: dict[str, Any] = field(default_factory=dict)

    def say(self) -> str:
        """In the current locale (the reader's, in a request; `language_of(person)` for mail)."""
        shown = {name: _shown(value) for name, value in self.params.items()}
        try:
            return gettext(self.msgid, **shown)
        except (KeyError, ValueError, TypeError):  # a translation naming a parameter we lack
            try:
                return self.msgid % shown if shown else self.msgid
            except (KeyError, ValueError, TypeError):
                return self.msgid

    def english(self) -> str:
        with force_locale(REGIONAL[DEFAULT_LANGUAGE]):
            return self.say()

    def __str__(self) -> str:
        return self.say()

    def as_json(self) -> dict[str, Any]:
        return {"msgid": self.msgid, "params": self.params}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Words:
        return cls(str(value["msgid"]), dict(value.get("params") or {}))


def stored(msgid: Any, **params: Any) -> Words:
    """Words to store: `msgid` marked with `N_` (or a lazy string), parameters as above."""
    return Words(msgid_of(msgid), {name: _param(value) for name, value in params.items()})


def said(words: Words | None, fallback: str = "") -> str:
    """The stored words in the reader's language; `fallback` for a row that has none."""
    return words.say() if words is not None else fallback


class WordsType(TypeDecorator[Words]):
    """`Words` in a JSON column."""

    impl = JSON(none_as_null=True)
    cache_ok = True

    def process_bind_param(self, value: Words | None, dialect: Dialect) -> dict[str, Any] | None:
        return value.as_json() if value is not None else None

    def process_result_value(self, value: Any, dialect: Dialect) -> Words | None:
        return Words.from_json(value) if value else None
