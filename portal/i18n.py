"""Languages: Flask-Babel picks each person's language; English is the source, Spanish is complete.

The choice, in order: the signed-in person's saved language (when they picked one), then the
language picked on this browser before signing in (a cookie), then the browser's Accept-Language,
then English. A guardian and the therapist on one case can differ. In child mode the device is
signed in as the guardian, so the child's screens follow the guardian's language; a child signed
in on their own sees their own.

Dates and times are shown in the viewer's clinic time zone (America/New_York by default), in the
person's language ("Nov 30" / "30 nov").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Any, NamedTuple

import flask_babel
from babel import Locale, support
from babel.dates import format_date as babel_format_date
from babel.dates import format_skeleton, get_day_names
from babel.dates import format_time as babel_format_time
from flask import Flask, g, has_app_context, has_request_context, request
from flask.globals import _cv_app
from flask_babel import LazyString, get_locale, get_timezone, to_user_timezone
from flask_login import current_user
from jinja2.nodes import EvalContext
from jinja2.utils import pass_eval_context
from markupsafe import Markup
from wtforms.i18n import messages_path

from portal.db import utcnow
from portal.extensions import babel

LANGUAGES: dict[str, str] = {"en": "English", "es": "Español"}
DEFAULT_LANGUAGE = "en"
# Catalogs are per language; formats follow the United States variant (12-hour clock in both).
REGIONAL = {"en": "en_US", "es": "es_US"}
LANGUAGE_COOKIE = "rapport_lang"
DEFAULT_TIMEZONE = "America/New_York"


def gettext(string: str, **variables: Any) -> str:
    """flask_babel.gettext with a type: for functions that promise to return a str."""
    text = str(translations().ugettext(string))
    return _one_full_stop(text, variables) % variables if variables else text


def _one_full_stop(text: str, variables: dict[str, Any]) -> str:
    """A sentence that ends on a value which itself ends with a full stop ("5:00 p.m." in
    Spanish) keeps one full stop, not "p.m.."."""
    for name, value in variables.items():
        if isinstance(value, str) and value.endswith("."):
            text = text.replace(f"%({name})s.", f"%({name})s")
    return text


class _Language(NamedTuple):
    locale: Locale
    name: str  # str(locale): "es_US"
    catalogue: Any


def _language(state: Any = None) -> _Language:
    """The locale of this request (or app context), its name and its catalogue, looked up once
    per request and locale (issue 17: Flask-Babel finds the catalogue again for every string,
    ~11 µs, and a caseload has 700 strings; its get_locale looks `g` up three times, and a page
    asks for the locale or the zone some 50 times). A `force_locale` block (an error page or an
    email in its reader's language) sets another locale object, so it gets its own lookup. Needs
    an app context; `state` is its `g` when the caller has it already."""
    if state is None:
        state = g._get_current_object()
    # Flask-Babel keeps the request's locale on g._flask_babel (pinned in pyproject.toml).
    locale = getattr(getattr(state, "_flask_babel", None), "babel_locale", None)
    bound: _Language | None = getattr(state, "bound_language", None)
    if locale is None or bound is None or bound.locale is not locale:
        catalogue = flask_babel.get_translations()
        chosen = flask_babel.get_locale()
        bound = _Language(chosen, str(chosen), catalogue)
        state.bound_language = bound
    return bound


def babel_gettext(string: str, **variables: Any) -> str:
    """Flask-Babel's gettext exactly (its catalogue, its %-formatting, no `_one_full_stop`),
    through the request's bound catalogue (issue 17: Flask-Babel's own looks the locale and the
    catalogue up again for every string, ~10 µs)."""
    text = str(translations().ugettext(string))
    return text % variables if variables else text


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """flask_babel.lazy_gettext: translated when used (a form's label, a word of `labels`),
    through `babel_gettext`. The msgid stays its first argument (`stored_words.msgid_of`)."""
    return LazyString(babel_gettext, string, **variables)


def translations() -> Any:
    """The catalogue for the current locale (see `_language`)."""
    context = _cv_app.get(None)  # one look-up for both questions (a page asks ~70 times)
    if context is None:
        return flask_babel.get_translations()
    return _language(context.g).catalogue


def current_locale() -> Any:
    """flask_babel.get_locale(), from the request's binding (`_language`)."""
    context = _cv_app.get(None)
    return _language(context.g).locale if context is not None else get_locale()


def _locale_name() -> str:
    """str(get_locale()), from the request's binding (`_language`)."""
    context = _cv_app.get(None)
    return _language(context.g).name if context is not None else str(get_locale())


def _zone() -> Any:
    """flask_babel.get_timezone(), reading the zone Flask-Babel chose for this request with one
    look-up of `g` (its own looks `g` up three times)."""
    if has_app_context():
        state = g._get_current_object()
        zone = getattr(getattr(state, "_flask_babel", None), "babel_tzinfo", None)
        if zone is not None:
            return zone
    return get_timezone()


@cache
def _wtforms_catalogue(locale: str) -> Any:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


def wtforms_translations() -> Any:
    """WTForms' own messages ("This field is required.") in this request's language, read from
    disk once per process and language (issue 17: Flask-WTF loaded the catalogue again on every
    request that touched a form, ~0.4 ms). Read-only, so every request can share it."""
    return _wtforms_catalogue(_locale_name())


def _formatted(eval_ctx: EvalContext, text: str, variables: dict[str, Any]) -> Any:
    """What Jinja's newstyle gettext does with a translation: Markup under autoescape, then
    %-formatting (which escapes the variables). The template functions below take only the eval
    context, all they read (issue 17: a function that takes the whole context is given a new
    derived context for each call in a loop or after a block's `{% set %}`, ~15 µs each)."""
    text = _one_full_stop(text, variables)
    if eval_ctx.autoescape:
        # XS-02 allowlist: our own catalogue's text, as Jinja's i18n does; variables escaped by %.
        return Markup(text) % variables  # noqa: S704  # nosec B704
    return text % variables


# Each catalogue's plain template strings as `_formatted` makes them (Markup), by msgid: a page
# says some 70 and they are the same on every page (issue 17). Keyed by the catalogue object
# (one per language and process; a `force_locale` block's its own); a process that somehow holds
# many starts again from empty.
_SAID: dict[Any, dict[str, Markup]] = {}


def _said_in(catalogue: Any) -> dict[str, Markup]:
    said = _SAID.get(catalogue)
    if said is None:
        if len(_SAID) >= 32:
            _SAID.clear()
        said = _SAID[catalogue] = {}
    return said


@pass_eval_context
def _template_gettext(eval_ctx: EvalContext, string: str, **variables: Any) -> Any:
    catalogue = translations()
    if variables or not eval_ctx.autoescape:
        return _formatted(eval_ctx, catalogue.ugettext(string), variables)
    said = _said_in(catalogue)
    text = said.get(string)
    if text is None:
        text = said[string] = _formatted(eval_ctx, catalogue.ugettext(string), variables)
    return text


@pass_eval_context
def _template_ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: Any
) -> Any:
    variables.setdefault("num", num)
    return _formatted(eval_ctx, translations().ungettext(singular, plural, num), variables)


@pass_eval_context
def _template_pgettext(eval_ctx: EvalContext, ctx: str, string: str, **variables: Any) -> Any:
    return _formatted(eval_ctx, translations().upgettext(ctx, string), variables)


@pass_eval_context
def _template_npgettext(
    eval_ctx: EvalContext, ctx: str, singular: str, plural: str, num: int, **variables: Any
) -> Any:
    variables.setdefault("num", num)
    return _formatted(eval_ctx, translations().unpgettext(ctx, singular, plural, num), variables)


@contextmanager
def language_of(person: object) -> Iterator[None]:
    """Write to someone (an email) in the language they chose; English when they chose none."""
    language = getattr(person, "language", None) or DEFAULT_LANGUAGE
    with flask_babel.force_locale(REGIONAL.get(language, REGIONAL[DEFAULT_LANGUAGE])):
        yield


def chosen_language() -> str | None:
    """The language this person (or, signed out, this browser) picked; None follows the browser."""
    user = current_user._get_current_object()  # one look-up for both questions (issue 17)
    chosen = getattr(user, "language", None) if user else None
    if chosen in LANGUAGES:
        return str(chosen)
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    return cookie if cookie in LANGUAGES else None


def select_language() -> str:
    if not has_request_context():  # workers, the CLI, the demo loader: English
        return DEFAULT_LANGUAGE
    return chosen_language() or (
        request.accept_languages.best_match(LANGUAGES.keys()) or DEFAULT_LANGUAGE
    )


def select_locale() -> Locale:
    """The request's locale as a `Locale` made once per process (issue 17): Flask-Babel parses a
    name it is given into a new `Locale` on every request (~10 µs) and takes a `Locale` as it is.
    A `Locale` is never changed once made, so every request may share it."""
    return _regional_locale(REGIONAL[select_language()])


@cache
def _regional_locale(name: str) -> Locale:
    return Locale.parse(name)


def select_timezone() -> str:
    if not has_request_context():
        return DEFAULT_TIMEZONE
    user = current_user._get_current_object()
    clinic = getattr(user, "clinic", None) if user else None
    return clinic.timezone if clinic is not None else DEFAULT_TIMEZONE


# The few shapes of date the pages use, as CLDR skeletons: each language orders them its own way.
DATE_SHAPES = {
    "day": "MMMd",  # Nov 30 / 30 nov
    "date": "yMMMd",  # Nov 30, 2026 / 30 nov 2026
    "long": "yMMMMd",  # November 30, 2026 / 30 de noviembre de 2026
    "month_day": "MMMMd",  # November 30 / 30 de noviembre
    "weekday": "MMMEd",  # Mon, Nov 30 / lun, 30 nov
    "weekday_long": "MMMMEEEEd",  # Monday, November 30 / lunes, 30 de noviembre
    "weekday_year": "yMMMEd",  # Mon, Nov 30, 2026
}


# Formatting a date through Babel costs ~0.1-0.2 ms, and a thread or a caseload writes hundreds
# (issue 17). What a shape says depends only on the language and the calendar day (the shapes above
# have no time fields), and a clock only on the hour and minute, so each is worked out once per
# process and reused.
@lru_cache(maxsize=8192)
def _day_in(locale: str, shape: str, day: date) -> str:
    return str(format_skeleton(DATE_SHAPES[shape], day, locale=locale))


@lru_cache(maxsize=4096)
def _clock_in(locale: str, hour: int, minute: int) -> str:
    return str(babel_format_time(time(hour, minute), "short", locale=locale)).replace("\u202f", " ")


@lru_cache(maxsize=20_000)
def _in_zone(zone: Any, value: datetime) -> datetime:
    """A moment in a zone, moved as Flask-Babel's to_user_timezone moves it (~30 µs; a page shows
    the same moments on every visit)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return zone.normalize(value.astimezone(zone))  # type: ignore[no-any-return]


@lru_cache(maxsize=4096)
def _medium_date_in(locale: str, day: date) -> str:
    return str(babel_format_date(day, "medium", locale=locale))


def _shape(value: date, shape: str) -> str:
    day = value.date() if isinstance(value, datetime) else value
    return _day_in(_locale_name(), shape, day)


def clock(value: time | datetime) -> str:
    """A time of day in the person's language ("9:00 AM" / "9:00 a.m."), no zone change."""
    return _clock_in(_locale_name(), value.hour, value.minute)


def day_name(weekday: int) -> str:
    """Monday is 0, as in datetime.weekday()."""
    return str(get_day_names("wide", locale=current_locale())[weekday])


def local_datetime(value: datetime | None, shape: str = "datetime") -> str:
    """A moment in the viewer's time zone and language; shape "datetime" adds the time of day."""
    if value is None:
        return ""
    local = _in_zone(_zone(), value)
    if shape == "time":
        return clock(local)
    if shape == "datetime":
        return f"{_shape(local, 'date')}, {clock(local)}"
    if shape.endswith("+time"):
        return f"{_shape(local, shape.removesuffix('+time'))}, {clock(local)}"
    return _shape(local, shape)


def moments(shape: str = "datetime") -> Callable[[datetime], str]:
    """`local_datetime(value, shape)` ("Nov 30, 2026, 9:05 AM") for the many moments of one page
    (a thread's messages), the same text for less work (issue 17: babel's formatting was a fifth
    of the thread page): the zone and language are looked up once; each day's date and each
    minute's time of day are formatted once per process; and the zone's offset is found once per
    UTC day, when it is the same at both ends of the day (every day but a clock change's, which
    are converted moment by moment as local_datetime does). Shapes: "datetime", DATE_SHAPES' and
    theirs with "+time" ("weekday+time": "Mon, Nov 30, 9:05 AM")."""
    zone = _zone()
    language = _locale_name()
    date_shape = "date" if shape == "datetime" else shape.removesuffix("+time")
    with_time = date_shape != shape

    def moment(value: datetime) -> str:
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        offset = _steady_offset(zone, utc.date())
        # With a steady offset, the zone's wall clock is UTC plus it (its tzinfo stays UTC,
        # unused below); on a clock change's day, the zone converts the moment itself.
        local = zone.normalize(utc.astimezone(zone)) if offset is None else utc + offset
        day = _day_in(language, date_shape, local.date())
        if not with_time:
            return day
        return f"{day}, {_clock_in(language, local.hour, local.minute)}"

    return moment


@lru_cache(maxsize=4096)
def _steady_offset(zone: Any, day: date) -> timedelta | None:
    """The zone's offset from UTC all through this UTC day; None when it changes that day."""
    start = datetime.combine(day, time.min, UTC).astimezone(zone).utcoffset()
    end = datetime.combine(day, time.max, UTC).astimezone(zone).utcoffset()
    return start if start == end else None


def local_date(value: date | None, shape: str = "date") -> str:
    """A calendar day (no time zone: it is already the clinic's day) in the viewer's language."""
    if value is None:
        return ""
    if shape == "date":
        # A moment is first moved to the viewer's zone, as Flask-Babel's format_date does.
        day = to_user_timezone(value).date() if isinstance(value, datetime) else value
        return _medium_date_in(_locale_name(), day)
    return _shape(value, shape)


def local_now() -> datetime:
    """Now, in the time zone the pages write their dates in (the clinic's): a week or a day a
    person sees starts at their midnight, not at UTC's."""
    return utcnow().astimezone(_zone())


def timezone_name() -> str:
    return str(_zone())


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", DEFAULT_TIMEZONE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    # Templates translate through the request's bound catalogue, `_()` without the extra hop
    # through `gettext` that Jinja's alias makes (Flask-Babel's callables look the catalogue up
    # again for every string).
    app.jinja_env.globals.update(
        gettext=_template_gettext,
        _=_template_gettext,
        ngettext=_template_ngettext,
        pgettext=_template_pgettext,
        npgettext=_template_npgettext,
    )
