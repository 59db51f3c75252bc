"""iCalendar (RFC 5545) text for sessions: written by hand, it is a few lines.

An event carries no clinical content and no child's name (calendars sync to other companies'
servers, HP-04): "Rapport appointment", in person or by video, and a link to the portal.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app

from portal.db import utcnow
from portal.i18n import gettext as _
from portal.models import SessionMode, TherapySession

SESSION_LENGTH = timedelta(minutes=50)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _event(session: TherapySession, now: datetime) -> list[str]:
    how = _("by video") if session.mode is SessionMode.VIDEO else _("in person")
    base = str(current_app.config["PORTAL_BASE_URL"]).rstrip("/")
    summary = _("Rapport appointment (%(how)s)", how=how)
    description = _("Details in Rapport: %(link)s", link=base + "/")
    return [
        "BEGIN:VEVENT",
        f"UID:session-{session.id}@rapport",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(session.starts_at)}",
        f"DTEND:{_stamp(session.starts_at + SESSION_LENGTH)}",
        f"SUMMARY:{_escape(summary)}",
        f"DESCRIPTION:{_escape(description)}",
        "END:VEVENT",
    ]


def calendar(sessions: Iterable[TherapySession]) -> str:
    now = utcnow()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Rapport//Sessions//EN",
        "CALSCALE:GREGORIAN",
    ]
    name = _("Rapport appointments")
    lines.append(f"X-WR-CALNAME:{_escape(name)}")
    for session in sessions:
        lines += _event(session, now)
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"
