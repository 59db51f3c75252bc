"""The mechanism of words stored for later (portal/stored_words.py): what is stored, and how it is
said for each reader."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal.stored_words import N_, Words, WordsType, day, msgid_of, said, stored, word, word_list


def test_the_marker_returns_the_msgid_untranslated(app: Flask) -> None:
    with app.test_request_context(), force_locale("es_US"):
        assert N_("overall") == "overall"
        assert msgid_of(_l("overall")) == "overall"


def test_stored_words_are_plain_json_and_come_back_whole(app: Flask) -> None:
    words = stored(
        N_("%(who)s rated low: %(items)s"),
        who="Ana",
        items=word_list([N_("feeling heard"), N_("overall")]),
    )
    kind = WordsType()
    as_json = kind.process_bind_param(words, None)  # type: ignore[arg-type]
    assert as_json == {
        "msgid": "%(who)s rated low: %(items)s",
        "params": {"who": "Ana", "items": {"words": ["feeling heard", "overall"]}},
    }
    assert kind.process_result_value(as_json, None) == words  # type: ignore[arg-type]
    assert kind.process_bind_param(None, None) is None  # type: ignore[arg-type]


def test_words_are_said_when_read_in_the_readers_language(app: Flask) -> None:
    words = stored(
        N_("%(who)s rated low: %(items)s"),
        who="Ana",
        items=word_list([N_("feeling heard"), N_("overall")]),
    )
    with app.test_request_context():
        with force_locale("en_US"):
            assert str(words) == "Ana rated low: feeling heard and overall"
        with force_locale("es_US"):
            assert words.say() == "Ana dio una calificación baja: sentirse escuchado y en general"
        assert words.english() == "Ana rated low: feeling heard and overall"


def test_a_moment_is_written_in_the_readers_zone_and_language(app: Flask) -> None:
    late = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # still Nov 30 in New York
    words = stored(N_("No practice logged since %(day)s"), day=day(late))
    with app.test_request_context():
        with force_locale("en_US"):
            assert words.say() == "No practice logged since Nov 30"
        with force_locale("es_US"):
            assert words.say() == "Sin práctica anotada desde el 30 nov"
    calendar_day = stored(N_("No practice logged since %(day)s"), day=date(2026, 12, 1))
    with app.test_request_context(), force_locale("es_US"):
        assert calendar_day.say() == "Sin práctica anotada desde el 1 dic"


def test_numbers_are_written_for_the_reader(app: Flask) -> None:
    words = Words(
        "%(who)s's rating of %(item)s dropped %(points)s points since last time",
        {"who": "Ana", "item": word(N_("overall")), "points": 1200},
    )
    with app.test_request_context(), force_locale("en_US"):
        assert "dropped 1,200 points" in words.say()


def test_a_row_without_words_shows_its_old_text_and_a_bad_translation_never_breaks_a_page(
    app: Flask,
) -> None:
    with app.test_request_context(), force_locale("es_US"):
        assert said(None, "As it was stored") == "As it was stored"
        # A parameter missing from the stored words: the msgid is shown rather than an error.
        assert Words("%(who)s rated low: %(items)s", {"who": "Ana"}).say().startswith("%(who)s")
