"""Configuration: safe defaults, then PORTAL_* / DATABASE_URL from the environment.

Production (PORTAL_ENV=production) refuses to start without a real secret (SE-08) and always sets
secure cookie flags (SE-07).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

KNOWN_DEV_SECRETS = {"dev", "changeme", "secret", "development", "rapport-dev"}
MIN_SECRET_BYTES = 32


class ConfigError(RuntimeError):
    """The app refuses to start with this configuration."""


def _dev_secret(instance_path: str) -> str:
    """A random key kept in instance/ so development sessions survive a restart."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


DEFAULT_PORT = "5000"  # the Makefile's PORT for `make demo`


def defaults(instance_path: str) -> dict[str, Any]:
    return {
        "PORTAL_ENV": "development",
        "DATABASE_URL": f"sqlite:///{Path(instance_path) / 'rapport.db'}",
        # Email links: the address `make demo` serves on (PORT-aware) unless PORTAL_BASE_URL says.
        "PORTAL_BASE_URL": f"http://127.0.0.1:{os.environ.get('PORT') or DEFAULT_PORT}",
        "SESSION_COOKIE_NAME": "rapport_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "IDLE_TIMEOUT": timedelta(minutes=30),
        "ABSOLUTE_SESSION_LIFETIME": timedelta(hours=12),
        "INVITATION_TTL": timedelta(days=7),
        "ACCOUNT_TOKEN_TTL": timedelta(hours=72),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,  # the token dies with the session, which has its own limits
        "WTF_CSRF_HEADERS": ["X-CSRFToken", "X-CSRF-Token"],
        "PRINT_OUTBOX": False,
        # Outgoing mail (flask --app wsgi outbox-send); PORTAL_SMTP_* in the environment.
        "SMTP_HOST": "localhost",
        "SMTP_PORT": 25,
        "SMTP_USER": None,
        "SMTP_PASSWORD": None,
        "SMTP_SECURITY": "none",  # none | starttls | ssl
        "MAIL_FROM": "Rapport <no-reply@rapport.invalid>",
        # Live messaging: with REDIS_URL, server-sent events over Redis pub/sub; else polling.
        "REDIS_URL": None,
        "MESSAGES_POLL_SECONDS": 1,
        "MESSAGES_STREAM_SECONDS": 25,  # a stream ends and reconnects (re-checking access)
        # Retention (CO-04, README "Retention"): the clinic's policy, see portal/rights/retention.
        "RETENTION_CLINICAL_YEARS": 7,
        "RETENTION_MAJORITY_AGE": 21,
        "RETENTION_OPERATIONAL_DAYS": 90,
        # Audit trail (issue 17): seconds after a commit that wrote audit rows before this process
        # seals them into the hash chain (commits in between share the round); None = only
        # `flask --app wsgi audit-seal` seals.
        "AUDIT_SEAL_DELAY": 0.5,
        # On SQLite, a request that only read keeps its audit row in a spool file beside the
        # database, which the sealer moves into the trail, instead of taking the database's
        # one write lock for it (issue 17, portal/audit_spool.py). False: written at once.
        "AUDIT_READ_SPOOL": True,
    }


def _seconds_or_off(value: str) -> float | None:
    """A delay in seconds, or "off" (none: no sealer thread; `audit-seal` from cron instead)."""
    return None if value == "off" else float(value)


def _on_or_off(value: str) -> bool:
    if value not in ("on", "off"):
        raise ConfigError(f"expected on or off, not {value!r}")
    return value == "on"


_ENV_SETTINGS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "PORTAL_SMTP_HOST": ("SMTP_HOST", str),
    "PORTAL_SMTP_PORT": ("SMTP_PORT", int),
    "PORTAL_SMTP_USER": ("SMTP_USER", str),
    "PORTAL_SMTP_PASSWORD": ("SMTP_PASSWORD", str),
    "PORTAL_SMTP_SECURITY": ("SMTP_SECURITY", str),
    "PORTAL_MAIL_FROM": ("MAIL_FROM", str),
    "REDIS_URL": ("REDIS_URL", str),
    "PORTAL_MESSAGES_STREAM_SECONDS": ("MESSAGES_STREAM_SECONDS", float),
    "PORTAL_RETENTION_CLINICAL_YEARS": ("RETENTION_CLINICAL_YEARS", int),
    "PORTAL_RETENTION_MAJORITY_AGE": ("RETENTION_MAJORITY_AGE", int),
    "PORTAL_RETENTION_OPERATIONAL_DAYS": ("RETENTION_OPERATIONAL_DAYS", int),
    "PORTAL_AUDIT_SEAL_DELAY": ("AUDIT_SEAL_DELAY", _seconds_or_off),
    "PORTAL_AUDIT_READ_SPOOL": ("AUDIT_READ_SPOOL", _on_or_off),
}


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    app.config.from_mapping(defaults(app.instance_path))
    env = os.environ
    if "PORTAL_ENV" in env:
        app.config["PORTAL_ENV"] = env["PORTAL_ENV"]
    if "DATABASE_URL" in env:
        app.config["DATABASE_URL"] = env["DATABASE_URL"]
    if "PORTAL_SECRET_KEY" in env:
        app.config["SECRET_KEY"] = env["PORTAL_SECRET_KEY"]
    if "PORTAL_BASE_URL" in env:
        app.config["PORTAL_BASE_URL"] = env["PORTAL_BASE_URL"]
    for variable, (key, convert) in _ENV_SETTINGS.items():
        if env.get(variable):
            app.config[key] = convert(env[variable])
    if test_config:
        app.config.from_mapping(test_config)
        if test_config.get("TESTING") and "AUDIT_SEAL_DELAY" not in test_config:
            # Tests share one connection between the app and the test: no sealer thread on it.
            app.config["AUDIT_SEAL_DELAY"] = None
        if test_config.get("TESTING") and "AUDIT_READ_SPOOL" not in test_config:
            # Nothing would move a read's row into the table before the test looks for it; the
            # spool's own tests turn it on with a sealer.
            app.config["AUDIT_READ_SPOOL"] = False
    if app.config["SMTP_SECURITY"] not in ("none", "starttls", "ssl"):
        raise ConfigError("PORTAL_SMTP_SECURITY must be none, starttls or ssl.")

    if app.config["PORTAL_ENV"] == "production":
        _harden_for_production(app)
    else:
        app.config.setdefault("SECRET_KEY", None)
        if not app.config["SECRET_KEY"]:
            app.config["SECRET_KEY"] = _dev_secret(app.instance_path)
        if app.config["PORTAL_ENV"] == "development" and "PRINT_OUTBOX" not in (test_config or {}):
            app.config["PRINT_OUTBOX"] = True


def _harden_for_production(app: Flask) -> None:
    secret = app.config.get("SECRET_KEY") or ""
    if secret in KNOWN_DEV_SECRETS or len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            "PORTAL_SECRET_KEY must be set to at least 32 random bytes in production "
            "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    app.config.update(
        DEBUG=False,
        TESTING=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_NAME="__Host-session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PREFERRED_URL_SCHEME="https",
        PRINT_OUTBOX=False,
    )
