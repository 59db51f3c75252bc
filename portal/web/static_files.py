"""Static files a browser keeps: every `url_for("static", ...)` carries the file's version.

A page links its stylesheet, scripts and pictures as `/static/css/rapport.css?v=<version>`, the
version being the first 12 hex digits of the SHA-256 of the file's bytes. A request that names the
current version is answered with `Cache-Control: public, max-age=31536000, immutable`: the browser
keeps the file and asks again only when a page names a new version, i.e. when the file changed.
Any other request for a static file (no version, or a version that is not the file's current
one: a page kept from before a deployment) is answered as before, `no-cache`, so the browser checks
with the server each time and never holds a stale file as current.

Why (issue 17): without this a page view was the page plus eight revalidations of files that had
not changed (the stylesheet and seven scripts), each a request through the whole app. A guardian's
phone on a slow network waited for each one, and at clinic-network scale they were most of the
requests the app servers answered.

The version of a file is worked out once per file and modification time. In debug mode (`flask
run --debug`, a developer editing the stylesheet) each link checks the file (a `stat`), so an
edited file gets a new version without a restart; otherwise the files change only with a
deployment, which restarts the app, and a file's version is worked out once per process (issue 17:
a child's ladder links 24 files, and the stats were ~2 % of the page).
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from typing import Any

from flask import Flask, Response, current_app, request

ONE_YEAR = 31_536_000


@cache
def _version_of(path: str, modified_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


@cache
def _inside(static_folder: str, filename: str) -> str | None:
    root = os.path.realpath(static_folder)
    path = os.path.realpath(os.path.join(root, filename))
    return path if path.startswith(root + os.sep) else None


_deployed: dict[tuple[str, str], str] = {}


def static_version(static_folder: str, filename: str, *, watch: bool = True) -> str | None:
    """The version of a file in the static folder, or None for a name that is not a file there
    (the link is then left as written and answers 404, as it did). `watch=False` (not debug
    mode): a version once worked out is kept for the life of the process."""
    if not watch and (kept := _deployed.get((static_folder, filename))) is not None:
        return kept
    path = _inside(static_folder, filename)
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    version = _version_of(path, stat.st_mtime_ns, stat.st_size)
    if not watch:
        _deployed[(static_folder, filename)] = version
    return version


def _add_version(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint != "static" or "v" in values or "filename" not in values:
        return
    folder = current_app.static_folder
    if folder and (version := static_version(folder, values["filename"], watch=current_app.debug)):
        values["v"] = version


def _keep_current_versions(response: Response) -> Response:
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return response
    asked = request.args.get("v")
    filename = (request.view_args or {}).get("filename")
    folder = current_app.static_folder
    watch = current_app.debug
    if asked and filename and folder and asked == static_version(folder, filename, watch=watch):
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = ONE_YEAR
        response.cache_control.immutable = True
    return response


def init_static_files(app: Flask) -> None:
    app.url_defaults(_add_version)
    app.after_request(_keep_current_versions)
