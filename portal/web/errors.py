"""Generic error pages: no traceback, SQL, path or version ever reaches a person (CF-02).

A database that is down or full answers 503 with "try again" rather than a 500 (RL-07, RL-08).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, render_template, request
from flask_babel import force_locale
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from portal import db
from portal.i18n import DEFAULT_LANGUAGE, LANGUAGES
from portal.i18n import lazy_gettext as _l
from portal.web.htmx import is_htmx

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Something in that request was not right"), _l("Please go back and try again.")),
    401: (_l("Please sign in"), _l("Your session has ended. Please sign in again.")),
    403: (_l("Not available"), _l("This page is not available to you.")),
    404: (
        _l("Page not found"),
        _l("We could not find that page. It may have moved, or the link is old."),
    ),
    405: (_l("Not available"), _l("That action is not available here.")),
    409: (
        _l("This changed meanwhile"),
        _l("Someone changed this while you were working. Please reload."),
    ),
    413: (_l("That was too much at once"), _l("Please send less text or fewer files at once.")),
    422: (
        _l("Something in that request was not right"),
        _l("Please check the form and try again."),
    ),
    429: (_l("Too many tries"), _l("Please wait a few minutes before trying again.")),
    500: (
        _l("Something went wrong on our side"),
        _l("Please try again. If it keeps happening, call the clinic."),
    ),
    503: (
        _l("Rapport is busy for a moment"),
        _l("Please try again in a minute. Nothing you saved was lost."),
    ),
}


def _rollback_quietly() -> None:
    # SQLite may already have rolled back (disk full, D8); a second rollback must not raise.
    try:
        db.session.rollback()
    except Exception:
        log.warning("rollback after error failed", exc_info=False)


# Never shown back, even to the person who typed them.
_NOT_KEPT = ("csrf", "password", "secret", "pin", "token", "idempotency", "confirm")


def typed_text() -> list[tuple[str, str]]:
    """What the person typed into the form that could not be saved (RL-07): shown back, escaped,
    so nothing is lost when the database is away. htmx forms keep it anyway (no swap on 5xx)."""
    if request.method != "POST":
        return []
    try:
        items = request.form.items(multi=True)
        return [
            (name, value)
            for name, value in items
            if value.strip() and not any(word in name.lower() for word in _NOT_KEPT)
        ]
    except Exception:  # an unreadable body is nothing to keep
        return []


def _render_without_database(template: str, **context: Any) -> str:
    """Render with no context processors (they load the signed-in person from the database) and
    the language from the browser alone."""
    language = request.accept_languages.best_match(LANGUAGES.keys()) or DEFAULT_LANGUAGE
    with force_locale(language):
        return current_app.jinja_env.get_template(template).render(**context)


def error_response(status: int) -> Response:
    title, text = MESSAGES.get(status, MESSAGES[500])
    fragment = is_htmx()
    if status == 503:  # the database is away: a page (or fragment) that needs nothing from it
        # htmx leaves the form and its text in place on an error; a full page shows the text back.
        body = _render_without_database(
            "errors/_message.html" if fragment else "errors/unavailable.html",
            title=title,
            text=text,
            status=status,
            kept=[] if fragment else typed_text(),
        )
    elif fragment:
        body = render_template(
            "errors/_message.html", title=title, text=text, status=status, error_page=True
        )
    else:
        body = render_template(
            "errors/page.html", title=title, text=text, status=status, error_page=True
        )
    response = Response(body, status=status)
    return response


def init_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        response = error_response(exc.code or 500)
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc: OperationalError) -> Response:
        log.error("database unavailable: %s", type(exc.orig).__name__)
        _rollback_quietly()
        response = error_response(503)
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        _rollback_quietly()
        return error_response(500)
