"""A change that reads first and takes SQLite's write lock only to write (issue 17).

On SQLite every POST holds the database's one write lock from its first statement (D7), so two
workers logging practices ran one after the other for most of each request: the sign-in check,
the child's case, the consent, the step and the form were read and checked under the lock, for
~2.6 of the request's ~3.5 ms. A view declared `reads_first` reads all that in a deferred
transaction instead, as a page view does, and calls `portal.db.will_write()` just before its
change: the lock is taken there and every statement the request read is read again under it
(`portal.db._lock_after_reads` says why that keeps the request as isolated as before). When a
row changed in between, the sign-in gate and the view run again, under the lock, as they would
have run on a view that is not declared: everything the first run learnt from the database
(what `g` gained and the session's objects) is forgotten first. `will_write()` may be called in the
sign-in check (ending an expired session, touching `last_active_at`) as well as in the view, so
the second run is the app's answer to `ReadsChanged`, which starts from the gate.

PostgreSQL is unchanged: its POSTs never waited for a lock at their first statement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g
from flask.typing import ResponseReturnValue

from portal import db

F = TypeVar("F", bound=Callable[..., Any])

# What `g` keeps when the view runs again: the session itself, whose transaction now holds the
# lock, and the note that it does.
_KEPT = frozenset({"db_session", "db_will_write"})


def reads_first(view: F) -> F:
    """Declare a view that reads in a deferred transaction and calls `db.will_write()` before it
    changes anything (a write before that is refused: `portal.db`). Not for a view with a rate
    limit: a second run under the lock runs the before-request hooks again, so it would count
    the request twice."""
    view.reads_first = True  # type: ignore[attr-defined]
    return view


def init_reads_first(app: Flask) -> None:
    app.register_error_handler(db.ReadsChanged, _again_under_the_lock)


def _again_under_the_lock(_changed: db.ReadsChanged) -> ResponseReturnValue:
    """The sign-in gate and the view again, in the transaction that now holds the lock (the rows
    changed while the request read: `will_write()` raised in the gate's sign-in check or in the
    view). `g` goes back to what it held before the request's first statement and the session's
    objects are read anew, so nothing decided on the first reading is kept. Flask then finishes
    the answer once, as for any other (its after-request hooks run once)."""
    before: frozenset[str] = g.get("db_reads_first_before", frozenset())
    for name in [name for name in vars(g) if name not in before and name not in _KEPT]:
        delattr(g, name)
    db.session.expire_all()
    try:
        refused = current_app.preprocess_request()
        if refused is not None:
            return refused
        return current_app.dispatch_request()
    except Exception as exc:  # an abort(404), a redirect: answered as on the first run
        return current_app.handle_user_exception(exc)
