"""Rapport as it was before issue 9 on SQLite: every transaction BEGIN IMMEDIATE, page views
included. Only for measuring the difference: BENCH_APP=bench.wsgi_immediate:app make bench."""

from __future__ import annotations

import portal.db

portal.db.read_only_request = lambda: False  # the begin hook looks this up on every BEGIN

from wsgi import app  # noqa: E402 - after the patch, on purpose

__all__ = ["app"]
