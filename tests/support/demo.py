"""The demo clinic in a test: an app on its own SQLite file, migrated with Alembic like a real
install, with or without the Willow Street demo clinic loaded (the demo test, the valid-HTML
crawl and the browser journeys all start from it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade

from portal import create_app, db
from portal.demo import load_demo_clinic


def app_on(db_file: Path) -> Flask:
    """An app on the SQLite file `db_file`, as it is."""
    return create_app(
        {
            "TESTING": True,
            "PORTAL_ENV": "test",
            "DATABASE_URL": f"sqlite:///{db_file}",
            "SECRET_KEY": "demo-test-secret-key-long-enough-0123456789abcdef",
        }
    )


def migrated_app(db_file: Path) -> Flask:
    """An app on the SQLite file `db_file`, migrated to the newest schema and still empty."""
    app = app_on(db_file)
    with app.app_context():
        upgrade(revision="heads")
    return app


def copied_app(loaded: Path, db_file: Path) -> Flask:
    """An app on a copy of the database `loaded` (a demo clinic loaded once for a module, so each
    test that only starts from it does not load it again: several seconds each). SQLite's backup
    copies a consistent picture, write-ahead log included."""
    source, target = sqlite3.connect(loaded), sqlite3.connect(db_file)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return app_on(db_file)


def demo_app(db_file: Path) -> Flask:
    """`migrated_app` with the demo clinic loaded, as `flask demo-data` loads it."""
    app = migrated_app(db_file)
    with app.app_context():
        load_demo_clinic()
        db.session.commit()  # commit point: the demo clinic, as the command commits it
    return app
