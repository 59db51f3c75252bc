"""Template globals and filters shared by every page."""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_babel import format_decimal, get_locale

from portal.db import utcnow
from portal.feedback.alert_words import alert_summary
from portal.i18n import LANGUAGES, chosen_language, local_date, local_datetime
from portal.labels import kin, label, named_kin
from portal.policies import can, today


def _plan_activation(plan: Any) -> dict[str, bool]:
    from portal.plans.services import activation_status

    return activation_status(plan)


def init_templating(app: Flask) -> None:
    from portal import HTMX_FILE

    # Dates, times and numbers in the viewer's language and time zone (portal/i18n.py).
    app.jinja_env.filters["local"] = local_datetime
    app.jinja_env.filters["day"] = local_date
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["kin"] = kin
    app.jinja_env.filters["named_kin"] = named_kin
    app.jinja_env.filters["alert_summary"] = alert_summary
    app.jinja_env.globals["zip"] = zip
    app.jinja_env.globals["plan_activation"] = _plan_activation

    @app.context_processor
    def _globals() -> dict[str, Any]:
        auth_session = g.get("auth_session")
        return {
            "can": can,
            "today": today(),
            "now": utcnow(),
            "htmx_file": HTMX_FILE,
            "child_mode": bool(auth_session and auth_session.child_mode_child_id),
            "languages": LANGUAGES,
            "language": get_locale().language if get_locale() else "en",
            "chosen_language": chosen_language(),
        }
