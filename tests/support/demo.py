"""The demo clinic in a test: an app on its own SQLite file, migrated with Alembic like a real
install, with or without the Willow Street demo clinic loaded (the demo test, the valid-HTML
crawl and the browser journeys all start from it)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_migrate import upgrade

from portal import create_app, db
from portal.demo import load_demo_clinic


def migrated_app(db_file: Path) -> Flask:
    """An app on the SQLite file `db_file`, migrated to the newest schema and still empty."""
    app = create_app(
        {
            "TESTING": True,
            "PORTAL_ENV": "test",
            "DATABASE_URL": f"sqlite:///{db_file}",
            "SECRET_KEY": "demo-test-secret-key-long-enough-0123456789abcdef",
        }
    )
    with app.app_context():
        upgrade(revision="heads")
    return app


def demo_app(db_file: Path) -> Flask:
    """`migrated_app` with the demo clinic loaded, as `flask demo-data` loads it."""
    app = migrated_app(db_file)
    with app.app_context():
        load_demo_clinic()
        db.session.commit()  # commit point: the demo clinic, as the command commits it
    return app
