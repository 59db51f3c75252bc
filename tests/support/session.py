"""Calling services directly from a test, on the test's own session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy.orm import Session

from portal import db


@contextmanager
def services_on(app: Flask, db_session: Session) -> Iterator[Session]:
    """Inside the block, services (which read `portal.db.session`) work on `db_session`, in a
    request context of `app`; on a normal exit the work is committed. The test's outer transaction
    still rolls everything back at its end (tests/conftest.py `db_session`)."""
    with app.test_request_context(), db.bound(db_session):
        yield db_session
        db_session.commit()
