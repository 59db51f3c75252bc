"""PostgreSQL's transient failures are retried, not shown (RL-06).

A serialization failure (40001) or a deadlock (40P01) means "run the transaction again": the
request is rolled back and its view runs again, up to 3 times in all, after a short random wait
(jitter keeps two colliding requests from colliding again). Anything else, or a third failure,
goes to the error handlers (503 for a database problem). SQLite never raises these codes.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy.exc import DBAPIError

from portal import db

log = logging.getLogger(__name__)
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})
ATTEMPTS = 3
BASE_DELAY = 0.02  # seconds; the wait before try n is uniform in [0, BASE_DELAY * 2**n)
T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) in TRANSIENT_SQLSTATES


def retry_transient(
    work: Callable[[], T], *, attempts: int = ATTEMPTS, rollback: Callable[[], None] | None = None
) -> T:
    """Run `work` until it does not fail transiently, at most `attempts` times."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as exc:
            if not is_transient(exc) or attempt == attempts:
                raise
            sqlstate = getattr(exc.orig, "sqlstate", "?")
            log.warning("transient database failure %s; try %d of %d", sqlstate, attempt, attempts)
            # Not a commit point: the failed transaction is rolled back and the view runs again,
            # so its own commit is the one that counts.
            (rollback or db.session.rollback)()
            # Jitter only, nothing secret depends on it.
            time.sleep(random.uniform(0, BASE_DELAY * 2**attempt))  # noqa: S311  # nosec B311
    raise AssertionError("unreachable")


def _retrying(view: Callable[..., Any]) -> Callable[..., Any]:
    if getattr(view, "retries_transient", False):
        return view

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return retry_transient(lambda: view(*args, **kwargs))

    wrapped.retries_transient = True  # type: ignore[attr-defined]
    return wrapped


def init_retry(app: Flask) -> None:
    """Wrap every view (call again after adding routes; already wrapped views are kept)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = _retrying(view)
