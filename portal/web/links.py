"""The templates' `url_for`: each link built once per process, then looked up (issue 17).

A page writes 20-40 links (the layout alone: ten static files and the navigation), and building
one through Flask and Werkzeug costs 3-5 µs, a static file's 12 µs (its version, then the query
string). What a link says depends only on the endpoint, the values given, the version of a static
file and the request's URL adapter (its script root, host, subdomain and method), so the built
link is kept under exactly those and reused by every later request.

Anything else goes through Flask's own `url_for` unchanged: outside a request, a relative endpoint
(".name", which depends on the request's blueprint), the `_anchor`/`_method`/`_scheme`/`_external`
options, values that cannot be a key (a list), a long text value (see LONGEST), and any app whose
URL defaults are not only the static files' version (another `url_defaults` function could read
the request). A static file's
version is still read from the file (a `stat` per link, `portal/web/static_files.py`), so an
edited file gets a new link without a restart, as before.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.globals import _cv_request

from portal.web.static_files import _add_version, static_version

# Links kept per app; a process that somehow builds more starts again from empty. A value longer
# than LONGEST (a `next=` path someone typed or crafted) is never kept, so what the cache can hold
# stays small (a few MB at most) whatever requests arrive.
LIMIT = 10_000
LONGEST = 200


class TemplateLinks:
    """`url_for` for an app's templates, with every built link kept (see the module)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.built: dict[tuple[Any, ...], str] = {}

    def _kept_defaults_only(self) -> bool:
        defaults = self.app.url_default_functions
        return len(defaults) == 1 and defaults.get(None) == [_add_version]

    def __call__(self, endpoint: str, /, **values: Any) -> str:
        app = self.app
        context = _cv_request.get(None)
        if (
            context is None
            or context.url_adapter is None
            or endpoint[:1] == "."
            or any(name[:1] == "_" for name in values)
            or any(isinstance(value, str) and len(value) > LONGEST for value in values.values())
            or not self._kept_defaults_only()
        ):
            return app.url_for(endpoint, **values)
        adapter = context.url_adapter
        version = None
        if endpoint == "static" and "v" not in values and "filename" in values:
            folder = app.static_folder
            version = (
                static_version(folder, values["filename"], watch=app.debug) if folder else None
            )
        key = (
            endpoint,
            # In the order given (it is the query string's order); with each value's type, so
            # 1 and True stay two links.
            tuple((name, type(value), value) for name, value in values.items()),
            version,
            adapter.script_name,
            adapter.server_name,
            adapter.subdomain,
            adapter.default_method,
        )
        try:
            link = self.built.get(key)
        except TypeError:  # a value that cannot be a key
            return app.url_for(endpoint, **values)
        if link is None:
            link = app.url_for(endpoint, **values)
            if len(self.built) >= LIMIT:
                self.built.clear()
            self.built[key] = link
        return link
