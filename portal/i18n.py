"""Languages: Flask-Babel picks each person's language; English is the source, Spanish is complete.

The choice, in order: the signed-in person's saved language (when the account has one), then the
browser's Accept-Language, then English. A guardian and the therapist on one case can differ.
"""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user

from portal.extensions import babel

LANGUAGES: dict[str, str] = {"en": "English", "es": "Español"}
DEFAULT_LANGUAGE = "en"


def select_locale() -> str:
    chosen = getattr(current_user, "language", None) if current_user else None
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES.keys()) or DEFAULT_LANGUAGE


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)
