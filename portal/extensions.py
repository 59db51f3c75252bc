"""Extensions, created unbound; create_app() binds them."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask, current_app, g
from flask.cli import with_appcontext
from flask_babel import Babel
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from portal.db import Database


class _LoginManager(LoginManager):
    """Flask-Login, which works out the browser's identifier (a SHA-512 of its address and
    user agent) on every request for its session protection before looking whether that
    protection is on; here it is off (`portal.security`: the server-side sessions do that job),
    so the identifier is not worked out (issue 17). With protection on, Flask-Login's own check
    runs unchanged."""

    def _session_protection_failed(self) -> bool:
        mode = current_app.config.get("SESSION_PROTECTION", self.session_protection)
        if not mode or mode not in ("basic", "strong"):
            return False
        failed: bool = super()._session_protection_failed()
        return failed


database = Database()
babel = Babel()
login_manager = _LoginManager()
csrf = CSRFProtect()
htmx = HTMX()


class _Limiter(Limiter):
    """Flask-Limiter, whose check before every request runs only while the app has limits that
    apply beyond the views that declare them (default, application, blueprint, meta or fallback
    limits). The app's limits are all declared on their views (sign-in, second step, account:
    AU-03), and a view's own limit decorator checks them when the view is called; the check
    before every request found nothing to do on every page, poll and static file (issue 17:
    ~0.06 ms, 7 % of the idle poll). Limits added later, a blueprint's included, are seen on
    the next request."""

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        if in_middleware and not self._limits_beyond_views():
            return
        super()._check_request_limit(callable_name, in_middleware)

    def _limits_beyond_views(self) -> bool:
        manager = self.limit_manager
        return bool(
            manager._default_limits
            or manager._application_limits
            or manager._blueprint_limits
            or self._meta_limits
            or self._in_memory_fallback
        )


# Sign-in throttling (AU-03). Counters live in Redis when REDIS_URL is set, so several app
# servers share them; in memory otherwise (one process, development and tests).
limiter = _Limiter(key_func=get_remote_address, default_limits=[])


# Flask-Migrate (and Alembic, Mako, Pygments under it) only where migrations are run: the `flask db`
# commands and the tests' upgrade/downgrade. Importing it when the app starts cost every worker
# its import time and memory (issue 17). `app.extensions["migrate"]`, which Flask-Migrate's
# functions read, is made on first use.


class _Extensions(dict[str, Any]):
    def __init__(self, app: Flask, database: Database, directory: str) -> None:
        super().__init__(app.extensions)
        self._migrations = (app, database, directory)

    def __missing__(self, key: str) -> Any:
        if key != "migrate":
            raise KeyError(key)
        from flask_migrate import Migrate

        app, database, directory = self._migrations
        Migrate(app, database, directory=directory)  # sets self["migrate"]
        return self[key]


class _MigrationCommands(click.Group):
    """`flask db ...`: Flask-Migrate's command group (the same options, setting what its commands
    read from `g`), its commands imported when the command line asks for one."""

    @staticmethod
    def _commands() -> click.Group:
        from flask_migrate.cli import db

        group: click.Group = db
        return group

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._commands().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._commands().get_command(ctx, cmd_name)


@click.option("-d", "--directory", default=None, help="Migration script directory")
@click.option("-x", "--x-arg", multiple=True, help="Additional arguments for env.py")
@with_appcontext
def _migration_options(directory: str | None, x_arg: tuple[str, ...]) -> None:
    g.directory = directory
    g.x_arg = x_arg  # Migrate.get_config() picks these up


def init_migrations(app: Flask, database: Database, directory: str) -> None:
    app.extensions = _Extensions(app, database, directory)
    app.cli.add_command(
        _MigrationCommands(
            "db",
            callback=_migration_options,
            params=getattr(_migration_options, "__click_params__", []),
            help="Perform database migrations.",
        )
    )
