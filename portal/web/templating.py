"""Template globals and filters shared by every page."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import format_decimal, get_locale

from portal.db import utcnow
from portal.i18n import LANGUAGES, chosen_language, local_date, local_datetime
from portal.labels import label
from portal.models import User
from portal.policies import can, today
from portal.session_state import in_child_mode


def init_templating(app: Flask, *, htmx_file: str) -> None:
    # Dates, times and numbers in the viewer's language and time zone (portal/i18n.py).
    app.jinja_env.filters["local"] = local_datetime
    app.jinja_env.filters["day"] = local_date
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["label"] = label
    app.jinja_env.globals["zip"] = zip

    @app.context_processor
    def _globals() -> dict[str, Any]:
        child_mode = in_child_mode()

        def can_here(user: User, action: str, obj: Any = None) -> bool:
            """Templates ask `can(current_user, ...)` in this request's child mode."""
            return can(user, action, obj, child_mode=child_mode)

        return {
            "can": can_here,
            "today": today(),
            "now": utcnow(),
            "htmx_file": htmx_file,
            "child_mode": child_mode,
            "languages": LANGUAGES,
            "language": get_locale().language if get_locale() else "en",
            "chosen_language": chosen_language(),
        }
