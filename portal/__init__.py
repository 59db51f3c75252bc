"""Rapport: a shared portal for child therapy."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

HTMX_FILE = "vendor/htmx-2.0.11.min.js"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    from portal.audit_trail import init_audit_trail
    from portal.config import load_config
    from portal.extensions import (
        csrf,
        database,
        htmx,
        init_migrations,
        limiter,
        login_manager,
    )
    from portal.i18n import init_i18n
    from portal.logs import init_logging
    from portal.ops import cli
    from portal.security import init_security
    from portal.web.errors import init_errors
    from portal.web.reads_first import init_reads_first
    from portal.web.requests import PortalRequest
    from portal.web.static_files import init_static_files
    from portal.web.templating import init_templating

    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.request_class = PortalRequest  # NUL never reaches a form (IN-02)
    load_config(app, test_config)
    init_logging(logging.INFO)  # one event, one line (IN-04)

    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    database.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    init_migrations(app, database, directory=str(app.root_path + "/../migrations"))
    init_security(app)
    init_errors(app)
    init_reads_first(app)
    init_audit_trail(app)
    init_templating(app, htmx_file=HTMX_FILE)
    init_static_files(app)
    init_i18n(app)

    from portal.about import bp as about_bp
    from portal.admin import bp as admin_bp
    from portal.audit_report import bp as audit_bp
    from portal.auth import bp as auth_bp
    from portal.calendar import bp as calendar_bp
    from portal.cases import bp as cases_bp
    from portal.child import bp as child_bp
    from portal.family import bp as family_bp
    from portal.feedback import bp as feedback_bp
    from portal.invitations import bp as invitations_bp
    from portal.ladders import bp as ladders_bp
    from portal.messages import bp as messages_bp
    from portal.plans import bp as plans_bp
    from portal.rights import bp as rights_bp

    blueprints = (
        auth_bp,
        invitations_bp,
        cases_bp,
        family_bp,
        child_bp,
        admin_bp,
        audit_bp,
        plans_bp,
        feedback_bp,
        ladders_bp,
        messages_bp,
        rights_bp,
        about_bp,
        calendar_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    from portal.web.retry import init_retry

    init_retry(app)  # after every blueprint: each view retries PostgreSQL's 40001/40P01 (RL-06)
    cli.init_app(app)
    if app.config["PORTAL_ENV"] == "production":
        from portal.demo import refuse_demo_accounts

        refuse_demo_accounts(database.for_app(app).engine)
    return app
