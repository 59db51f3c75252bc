"""Issue 8, languages: every string goes through Flask-Babel, Spanish is complete and current, each
person picks their own language, and dates and times follow the person's language and clinic zone.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel import support
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.i18n import LANGUAGE_COOKIE, local_date, local_datetime, moments
from portal.models import MessageThread, OutboxEmail, User
from tests.i18n_scan import all_templates, untranslated, untranslated_source
from tests.support.browser import Browser
from tests.support.builders import build_threads, post
from tests.support.rows import PIN, World, link_guardian, make_case
from tests.support.session import services_on

ROOT = Path(__file__).resolve().parents[1]
CATALOGS = ROOT / "portal" / "translations"
SPANISH_PO = CATALOGS / "es" / "LC_MESSAGES" / "messages.po"
SPANISH_MO = CATALOGS / "es" / "LC_MESSAGES" / "messages.mo"
SPANISH = {"Accept-Language": "es-MX,es;q=0.9"}
# Words that are the same in Spanish: names of things, units, symbols.
SAME_IN_SPANISH = {
    "%(action)s: %(step)s",
    "%(minutes)s min",
    "Plan · %(first_name)s",
    "Plan v%(number)s · %(first_name)s",
    "› Plan",
    "No",
    "Social",
    "Video",
}


def _spanish_catalog() -> object:
    with SPANISH_PO.open("rb") as po:
        return read_po(po, locale="es")


def _messages(catalog: object) -> dict[object, object]:
    return {m.id: m for m in catalog if m.id}  # type: ignore[attr-defined]


def _key(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def _extracted_ids() -> set[object]:
    """What `make translations` would extract from the code and templates right now."""
    method_map = [("portal/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found: set[object] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def _text(response_body: str) -> str:
    """What a person reads: the page without tags, scripts or attribute values."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response_body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


# --- Every string goes through gettext ------------------------------------------------------------


def test_every_template_string_goes_through_gettext(app: Flask) -> None:
    findings = [str(f) for path in all_templates() for f in untranslated(app.jinja_env, path)]
    assert findings == [], "Text outside _() / {% trans %}:\n" + "\n".join(findings)


def test_the_template_scan_finds_each_kind_of_untranslated_text(app: Flask) -> None:
    source = "\n".join(
        [
            "{% block title %}Plain title{% endblock %}",
            '<button aria-label="Close the box">{{ _("Close") }}</button>',
            "<p>{{ 'in person' if video else 'by video' }}</p>",
            "<p>Hello {{ name }}</p>",
            "{% set _ = items.append(1) %}",
            "<p>{{ _('Fine') }} {% trans n=name %}Also fine {{ n }}{% endtrans %}</p>",
            "<p class=\"{{ 'tag-muted' if x }}\">{{ count }} · 10/10</p>",
        ]
    )
    found = [(f.line, f.text) for f in untranslated_source(app.jinja_env, source, "sample.html")]
    assert [line for line, _text in found] == [1, 2, 3, 3, 4, 5]
    assert "Plain title" in found[0][1] and "Close the box" in found[1][1]
    assert {found[2][1], found[3][1]} == {"in person", "by video"}


# --- The Spanish catalog --------------------------------------------------------------------------


def test_the_spanish_catalog_is_complete_current_and_compiled() -> None:
    catalog = _spanish_catalog()
    messages = _messages(catalog)
    empty = [m.id for m in messages.values() if not m.string or not all(m.string)]  # type: ignore[attr-defined]
    fuzzy = [m.id for m in messages.values() if m.fuzzy]  # type: ignore[attr-defined]
    assert empty == [] and fuzzy == []
    missing = sorted(map(str, _extracted_ids() - set(messages)))
    assert missing == [], "Run `make translations` and translate:\n" + "\n".join(missing)
    untranslated = [
        m.id
        for m in messages.values()
        if m.string == m.id and m.id not in SAME_IN_SPANISH  # type: ignore[attr-defined]
    ]
    assert untranslated == []
    with SPANISH_MO.open("rb") as mo:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(mo) if m.id}
    current = {_key(key): _key(m.string) for key, m in messages.items()}  # type: ignore[attr-defined]
    assert compiled == current, "Run `make compile-translations`: the .mo is older than the .po"


def _english_sentences() -> list[str]:
    """Whole English sentences of the catalog that a Spanish page must never show."""
    sentences = []
    for message in _messages(_spanish_catalog()).values():
        english = message.id  # type: ignore[attr-defined]
        if not isinstance(english, str) or "%(" in english or "<" in english:
            continue
        if len(english) >= 12 and " " in english and english not in SAME_IN_SPANISH:
            sentences.append(english)
    return sentences


def test_spanish_pages_for_each_role_show_no_english_sentences(
    new_browser: Callable[[], Browser], world: World
) -> None:
    case = world.case1.id
    pages = {
        None: ["/login", "/login/kids", "/no-such-page"],
        "t1@clinic.test": [
            "/caseload",
            f"/cases/{case}",
            f"/cases/{case}/plan",
            f"/cases/{case}/problems",
            f"/cases/{case}/ladders",
            f"/cases/{case}/progress",
            f"/cases/{case}/sessions",
            f"/cases/{case}/feedback",
            f"/cases/{case}/messages",
            "/messages/office-hours",
            "/account/password",
        ],
        "g1@family.test": [f"/family/{case}", f"/family/{case}/plan", "/messages"],
        "cody1": ["/me", "/me/ladder", "/me/plan"],
    }
    english = _english_sentences()
    assert len(english) > 300  # the check below has something to find
    for person, urls in pages.items():
        browser = new_browser()
        browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = SPANISH["Accept-Language"]
        if person:
            browser.login(person, PIN if person == "cody1" else "")
        for url in urls:
            response = browser.get(url)
            assert response.status_code in (200, 404), (person, url, response.status_code)
            text = _text(response.get_data(as_text=True))
            assert "Rapport no es para emergencias" in text, (person, url)
            left = [sentence for sentence in english if sentence in text]
            assert left == [], f"{person} {url} shows English: {left}"


# --- Each person picks their language -------------------------------------------------------------


def test_signed_out_the_picker_sets_a_cookie_and_returns_to_the_page(browser: Browser) -> None:
    browser.get("/login/kids")
    response = browser.post("/language", {"language": "es", "next": "/login/kids"})
    assert response.status_code == 303 and response.headers["Location"] == "/login/kids"
    assert LANGUAGE_COOKIE in response.headers["Set-Cookie"]
    page = browser.get("/login/kids").get_data(as_text=True)
    assert "¡Hola! Inicia sesión" in page and '<html lang="es">' in page
    back = browser.post("/language", {"language": "", "next": "https://evil.example/"})
    assert back.headers["Location"] == "/"  # only same-site paths are followed back
    assert "Hi! Sign in" in browser.get("/login/kids").get_data(as_text=True)


def test_a_guardian_and_the_therapist_of_one_case_read_it_in_their_own_languages(
    new_browser: Callable[[], Browser], world: World, db_session: Session
) -> None:
    guardian = new_browser()
    guardian.login("g1@family.test")
    guardian.get("/account/password")
    guardian.post("/language", {"language": "es", "next": f"/family/{world.case1.id}"})
    db_session.expire_all()
    assert db_session.get(User, world.g1.id).language == "es"  # type: ignore[union-attr]

    elsewhere = new_browser()  # a new device: the account remembers, whatever the browser says
    elsewhere.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-US"
    elsewhere.login("g1@family.test")
    family_page = elsewhere.get(f"/family/{world.case1.id}").get_data(as_text=True)
    assert "Equipo de atención de Cody" in family_page and "Cerrar sesión" in family_page

    therapist = new_browser()
    therapist.login("t1@clinic.test")
    case_page = therapist.get(f"/cases/{world.case1.id}").get_data(as_text=True)
    assert "Care team" in case_page and "Equipo de atención" not in case_page


def test_a_language_that_is_not_offered_is_refused_kindly(
    browser: Browser, world: World, db_session: Session
) -> None:
    browser.login("g1@family.test")
    response = browser.post("/language", {"language": "xx", "next": "/family"})
    assert response.status_code == 303
    page = browser.get("/family", follow_redirects=True).get_data(as_text=True)
    assert "Choose a language from the list." in page
    db_session.expire_all()
    assert db_session.get(User, world.g1.id).language is None  # type: ignore[union-attr]


def test_child_screens_use_the_childs_own_language_or_in_child_mode_the_guardians(
    new_browser: Callable[[], Browser], world: World, db_session: Session
) -> None:
    world.c1.language = "es"
    db_session.commit()
    child = new_browser()
    child.login("cody1", PIN)
    own_screen = child.get("/me").get_data(as_text=True)
    assert "¡Hola, Cody!" in own_screen
    assert "llama al <strong>911</strong>" in own_screen  # a child is spoken to as tú

    young = make_case(db_session, world.clinic, world.t1, first="Mia", last="One", age=6)
    link_guardian(db_session, young, world.g1)
    world.g1.language = "es"
    db_session.commit()
    guardian = new_browser()
    guardian.login("g1@family.test")
    guardian.get(f"/family/{young.id}")
    assert guardian.post(f"/family/{young.id}/child-mode").status_code == 303
    screen = guardian.get("/me").get_data(as_text=True)
    assert "¡Hola, Mia!" in screen
    assert "language-choice" not in screen  # the picker would change the guardian's account


def test_wtforms_own_messages_are_spanish_from_a_catalogue_loaded_once(
    browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A WTForms built-in message (a Length without a message of ours) speaks the request's
    language, and WTForms' catalogue is read from disk once per process, not per request
    (issue 17: Flask-WTF loaded it on every request that touched a form)."""
    browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = SPANISH["Accept-Language"]

    def too_long_address() -> str:
        browser.get("/login")
        response = browser.post("/login", {"email": "a" * 300 + "@family.test", "password": ""})
        assert response.status_code == 422
        return _text(response.get_data(as_text=True))

    assert "El campo no puede tener más de 254 caracteres." in too_long_address()
    loads: list[object] = []
    load = support.Translations.load

    def counted(*args: Any, **kwargs: Any) -> Any:
        loads.append(kwargs.get("domain"))
        return load(*args, **kwargs)

    monkeypatch.setattr(support.Translations, "load", counted)
    for _ in range(2):
        assert "El campo no puede tener más de 254 caracteres." in too_long_address()
    assert "wtforms" not in loads
    browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-US"
    assert "Field cannot be longer than 254 characters." in too_long_address()


def test_template_words_are_kept_per_language_and_said_as_before(app: Flask) -> None:
    """A template's plain `_('...')` is kept once made, per catalogue (issue 17): the same Markup
    as `_formatted` makes, in each request's own language, a `force_locale` block included."""
    import flask_babel
    from jinja2.nodes import EvalContext
    from markupsafe import Markup

    template = app.jinja_env.from_string("{{ _('Messages') }}|{{ _('Sign out') }}|{{ _('100%%') }}")
    for _ in range(2):  # made, then kept
        with app.test_request_context(headers={"Accept-Language": "en-US"}):
            assert template.render() == "Messages|Sign out|100%"
            with flask_babel.force_locale("es_US"):
                assert template.render() == "Mensajes|Cerrar sesión|100%"
        with app.test_request_context(headers=SPANISH):
            assert template.render() == "Mensajes|Cerrar sesión|100%"
    unescaped = app.jinja_env.from_string(
        "{% autoescape false %}{{ _('Messages') }}{% endautoescape %}"
    )
    with app.test_request_context(headers=SPANISH):
        assert unescaped.render() == "Mensajes"  # not kept: said as Jinja says it unescaped
        said: Callable[..., Any] = app.jinja_env.globals["_"]  # type: ignore[assignment]
        assert isinstance(said(EvalContext(app.jinja_env), "Messages"), Markup)


# --- Dates, times and e-mails ---------------------------------------------------------------------


def test_dates_and_times_follow_the_language_and_the_clinic_time_zone(app: Flask) -> None:
    moment = datetime(2026, 11, 30, 18, 5, tzinfo=UTC)  # 1:05 PM in New York
    with app.test_request_context(headers={"Accept-Language": "en-US"}):
        assert local_datetime(moment) == "Nov 30, 2026, 1:05 PM"
        assert local_datetime(moment, "day") == "Nov 30"
        assert local_date(moment.date(), "long") == "November 30, 2026"
    with app.test_request_context(headers=SPANISH):
        assert local_datetime(moment) == "30 nov 2026, 1:05 p.m."
        assert local_datetime(moment, "weekday_long") == "lun, 30 de noviembre"
        assert local_date(moment.date(), "long") == "30 de noviembre de 2026"


@pytest.mark.parametrize("headers", [{"Accept-Language": "en-US"}, SPANISH])
def test_a_pages_many_moments_read_as_each_one_alone_through_both_clock_changes(
    app: Flask, headers: dict[str, str]
) -> None:
    """`moments(shape)` (a caseload's or a thread's many dates) says what `local_datetime` says
    of each moment, on the days the clinic's clocks change too (issue 17)."""
    spring, autumn = datetime(2026, 3, 7, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC)
    seen = [day + timedelta(minutes=37 * step) for day in (spring, autumn) for step in range(160)]
    with app.test_request_context(headers=headers):
        for shape in ("datetime", "day", "weekday", "weekday+time"):
            said = moments(shape)
            assert [said(moment) for moment in seen] == [
                local_datetime(moment, shape) for moment in seen
            ], shape


def test_an_email_goes_out_in_the_language_of_the_person_it_is_for(
    app: Flask, db_session: Session, world: World
) -> None:
    threads = build_threads(app, db_session, world)
    world.t1.language = "es"
    db_session.commit()
    thread = db_session.get(MessageThread, threads["family_thread"])
    assert thread is not None
    with services_on(app, db_session):
        post(world.g1, thread, world.case1, "Hello from the family")
    emails = {
        e.to_address: e
        for e in db_session.scalars(select(OutboxEmail).where(OutboxEmail.sent_at.is_(None)))
    }
    assert emails["t1@clinic.test"].subject == "Tiene un mensaje nuevo en Rapport"
    assert "marque 2 para español" in emails["t1@clinic.test"].body
