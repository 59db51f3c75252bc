"""The child's screens without a connection (issue 15): the service worker and who it serves.

`/sw.js` is our own service worker (static/js/sw.js) served from the site's root so it may look
after `/me…`; the CSP's script-src 'self' covers it. Each signed-in page names its viewer with an
opaque tag (a header for the worker, a meta tag for the page): the worker keeps the pages and the
practices saved offline of one viewer only and drops them as soon as someone else is signed in,
so one person's screens are never shown to another on the same device. Signing out clears the
whole site's storage (Clear-Site-Data, and the worker wipes its caches too).
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from flask import Response, current_app, g
from flask_login import current_user

from portal.audit_trail import audited
from portal.ladders import bp
from portal.security import public
from portal.session_state import child_mode_child_id

SERVICE_WORKER = Path(__file__).resolve().parents[2] / "static" / "js" / "sw.js"
VIEWER_HEADER = "X-Rapport-Viewer"


def viewer_tag() -> str:
    """An opaque tag for who is at the screen (the person, and the child in child mode); ""
    when nobody is signed in. It reveals nothing: an HMAC under the app's secret."""
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return ""
    if "viewer_tag" not in g:
        child = child_mode_child_id()
        key = str(current_app.config["SECRET_KEY"]).encode()
        g.viewer_tag = hmac.new(
            key, f"viewer:{user.id}:{child or ''}".encode(), hashlib.sha256
        ).hexdigest()[:32]
    return str(g.viewer_tag)


@bp.app_context_processor
def _viewer_in_templates() -> dict[str, object]:
    return {"viewer_tag": viewer_tag}


@bp.after_app_request
def _name_the_viewer(response: Response) -> Response:
    # Only answers a device may keep need the tag; an error page (the database away, RL-07)
    # must not reach for the signed-in person again, and an empty answer (the idle poll's 204)
    # holds nothing to keep.
    keepable = response.status_code < 400 and response.status_code != 204
    if response.mimetype == "text/html" and keepable:
        response.headers[VIEWER_HEADER] = viewer_tag()
    return response


@bp.get("/sw.js")
@audited("read")  # declared like every route; it loads no child's record, so it writes no row
@public
def service_worker() -> Response:
    # Sent with every page's no-store, so a new worker is picked up at once.
    return Response(SERVICE_WORKER.read_bytes(), mimetype="text/javascript")
