"""One render helper for pages and their htmx fragments, built on flask-htmx's request object.

The same URL answers with the whole page, or, for an htmx request that is not a boosted navigation
or a history restore, with one named block of the same template (rendered by jinja2-fragments).
The block name comes from the view, never from the request. No other code reads `HX-*` headers.
"""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, redirect, render_template, url_for
from jinja2_fragments.flask import render_block

from portal.extensions import htmx


def is_htmx() -> bool:
    """The request came from htmx (a swap, a boosted link or a history restore)."""
    return bool(htmx)


def wants_fragment() -> bool:
    """An htmx swap: answer with the named block, not the whole page."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(
    template_name: str, *, block: str | None = None, status: int = 200, **context: Any
) -> Response:
    if block is not None and wants_fragment():
        body = render_block(template_name, block, **context)
    else:
        body = render_template(template_name, **context)
    response = make_response(body, status)
    response.headers.add("Vary", "HX-Request")
    return response


def see_other(endpoint: str, **values: Any) -> Response:
    """Post/Redirect/Get: after a change, 303 to the page that shows it."""
    return redirect(url_for(endpoint, **values), 303)  # type: ignore[return-value]
