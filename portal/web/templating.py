"""Template globals and filters shared by every page."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, g
from flask_babel import get_locale

from portal.db import utcnow
from portal.policies import can, today


def _local(value: datetime | None, fmt: str = "%b %-d, %Y %-I:%M %p") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo("America/New_York")).strftime(fmt)


def _day(value: date | None) -> str:
    return value.strftime("%b %-d, %Y") if value else ""


def _plan_activation(plan: Any) -> dict[str, bool]:
    from portal.plans.services import activation_status

    return activation_status(plan)


def init_templating(app: Flask) -> None:
    from portal import HTMX_FILE

    app.jinja_env.filters["local"] = _local
    app.jinja_env.filters["day"] = _day
    app.jinja_env.globals["zip"] = zip
    app.jinja_env.globals["plan_activation"] = _plan_activation
    # <html lang> follows the chosen language, so screen readers speak Spanish pages in Spanish.
    app.jinja_env.globals["page_language"] = lambda: str(get_locale() or "en")

    @app.context_processor
    def _globals() -> dict[str, Any]:
        auth_session = g.get("auth_session")
        return {
            "can": can,
            "today": today(),
            "now": utcnow(),
            "htmx_file": HTMX_FILE,
            "child_mode": bool(auth_session and auth_session.child_mode_child_id),
        }
