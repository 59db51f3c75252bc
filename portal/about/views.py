"""Pages about Rapport itself, open to everyone: the accessibility statement and the site icon."""

from __future__ import annotations

from flask import Response, current_app, send_from_directory

from portal.about import bp
from portal.audit_trail import audited
from portal.security import public
from portal.web.htmx import render


@bp.get("/accessibility")
@public
@audited("read")
def accessibility() -> Response:
    return render("about/accessibility.html")


@bp.get("/favicon.ico")
@public
@audited("read")
def favicon() -> Response:
    """Browsers ask for /favicon.ico on their own (a print page, a bookmark): the same icon."""
    static = current_app.static_folder
    assert static is not None
    return send_from_directory(static, "favicon.svg", mimetype="image/svg+xml", max_age=86400)
