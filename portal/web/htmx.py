"""One render helper for pages and their htmx fragments.

The same URL answers with the whole page, or, for an htmx request that is not a boosted navigation
or a history restore, with one named block of the same template. The block name comes from the
view, never from the request.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, make_response, redirect, request, url_for
from flask.templating import _default_template_ctx_processor


def wants_fragment() -> bool:
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    template_name: str, *, block: str | None = None, status: int = 200, **context: Any
) -> Response:
    if block is not None and wants_fragment():
        env = current_app.jinja_env
        template = env.get_template(template_name)
        full_context = dict(context)
        current_app.update_template_context(full_context)
        full_context.update(_default_template_ctx_processor())
        ctx = template.new_context(full_context)
        body = "".join(template.blocks[block](ctx))
    else:
        from flask import render_template

        body = render_template(template_name, **context)
    response = make_response(body, status)
    response.headers.add("Vary", "HX-Request")
    return response


def see_other(endpoint: str, **values: Any) -> Response:
    """Post/Redirect/Get: after a change, 303 to the page that shows it."""
    return redirect(url_for(endpoint, **values), 303)  # type: ignore[return-value]
