"""Queue outgoing mail in the outbox table, inside the caller's transaction.

In development the message is also printed to the console, so a new user can follow an invitation
link without a mail server. A real SMTP sender arrives with messaging.
"""

from __future__ import annotations

from flask import current_app

from portal import db
from portal.models import OutboxEmail


def queue_email(*, to: str, subject: str, body: str, dedupe_key: str) -> OutboxEmail:
    email = OutboxEmail(to_address=to, subject=subject, body=body, dedupe_key=dedupe_key)
    db.session.add(email)
    if current_app.config.get("PRINT_OUTBOX"):
        # Development only: plain print, never the logger (tokens must not reach logs, AU-06).
        print(f"\n--- outbox: to {to} — {subject}\n{body}\n---", flush=True)
    return email
