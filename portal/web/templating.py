"""Template globals and filters shared by every page."""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_babel import format_decimal
from flask_login import current_user
from jinja2 import Template
from jinja2.environment import TemplateModule
from jinja2.runtime import Context
from sqlalchemy import select

from portal import db
from portal.db import utcnow
from portal.i18n import LANGUAGES, chosen_language, current_locale, local_date, local_datetime
from portal.labels import kin, label, named_kin
from portal.models import AgeBand, Child, User
from portal.models.case_rows import PlainChild
from portal.policies import can, today
from portal.session_state import child_mode_child_id, child_named_at_screen, in_child_mode
from portal.web.links import TemplateLinks


def _child_at_screen() -> Child | PlainChild | None:
    """The child at the screen: as the page named it (`session_state.child_at_screen_is`), or from
    the session's identity map when the page loaded it already (every child screen does one or
    the other), so asking costs no query there."""
    child_id = child_mode_child_id()
    user: User = current_user._get_current_object()
    named = child_named_at_screen()
    if child_id is not None:
        if named is not None and named.id == child_id:
            return named
        return db.session.get(Child, child_id)
    if not user.is_child:
        return None
    if named is not None and named.user_id == user.id:
        return named
    for loaded in list(db.session.identity_map.values()):
        if isinstance(loaded, Child) and loaded.user_id == user.id:
            return loaded
    return db.session.scalar(select(Child).where(Child.user_id == user.id))


def viewer_band() -> AgeBand | None:
    """The age band of the child at the screen: the signed-in child, or the child a guardian
    handed the device to; None for an adult or nobody. Shared templates word what they say by it
    (a teen is never told to ask a grown-up)."""
    if "viewer_band" not in g:
        child = _child_at_screen() if current_user.is_authenticated else None
        g.viewer_band = child.age_band(today()) if child is not None else None
    return g.viewer_band  # type: ignore[no-any-return]


class _Template(Template):
    """Jinja's template, with the test an import (`{% from "_widgets.html" import ... %}`) makes
    done on sets: "does the importing page have globals this template lacks" was a set less a
    ChainMap's keys view, one Python-level look-up per global, some 25 a page's import (issue 17:
    ~2 % of the child's tracker, which makes four). The same answer, and the module Jinja keeps
    when there are none."""

    def _get_default_module(self, ctx: Context | None = None) -> TemplateModule:
        if ctx is not None and ctx.globals_keys.difference(*self.globals.maps):  # type: ignore[attr-defined]
            return super()._get_default_module(ctx)
        return super()._get_default_module(None)


def init_templating(app: Flask, *, htmx_file: str) -> None:
    app.jinja_env.template_class = _Template
    # Dates, times and numbers in the viewer's language and time zone (portal/i18n.py).
    app.jinja_env.filters["local"] = local_datetime
    app.jinja_env.filters["day"] = local_date
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["kin"] = kin
    app.jinja_env.filters["named_kin"] = named_kin
    app.jinja_env.globals["zip"] = zip
    # Each link a template writes is built once per process (portal/web/links.py).
    app.jinja_env.globals["url_for"] = TemplateLinks(app)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        child_mode = in_child_mode()
        locale = current_locale()

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
            "language": locale.language if locale else "en",
            "chosen_language": chosen_language(),
            "viewer_band": viewer_band,
        }
