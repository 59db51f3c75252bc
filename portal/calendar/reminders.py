"""Reminders by email (issue 13), through the outbox, in each person's language, without any
clinical content (HP-04), and never to someone who switched them off:

- the day before a planned session, to each guardian of the case;
- at the hour a guardian picked, when the week's practice is behind the ladder's weekly target
  (fewer tries so far than the target's share of the days gone), once a day.

`flask --app wsgi care-scan` (hourly) calls `queue_all`. Each email has a dedupe key, so a second
scan in the same hour or day queues nothing new.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from portal import db
from portal.feedback.services import clinic_zone
from portal.i18n import clock, language_of
from portal.i18n import gettext as _
from portal.models import (
    Case,
    CaseStatus,
    GuardianLink,
    Ladder,
    OutboxEmail,
    PracticeAttempt,
    SessionStatus,
    TherapySession,
    User,
)
from portal.ops.outbox import queue_email


def _queued(key: str) -> bool:
    found = db.session.scalars(select(OutboxEmail.id).where(OutboxEmail.dedupe_key == key))
    return found.first() is not None


def _current_guardians(case: Case, now: datetime) -> list[User]:
    return [
        link.guardian
        for link in case.guardian_links
        if link.is_current(now) and link.guardian.reminders and link.guardian.email
    ]


def _portal() -> str:
    return str(current_app.config["PORTAL_BASE_URL"]).rstrip("/") + "/login"


def queue_session_reminders(now: datetime) -> int:
    """Sessions starting in the next 24 hours: one reminder per guardian and session."""
    sessions = db.session.scalars(
        select(TherapySession).where(
            TherapySession.status == SessionStatus.SCHEDULED,
            TherapySession.starts_at > now,
            TherapySession.starts_at <= now + timedelta(hours=24),
        )
    ).all()
    queued = 0
    for session in sessions:
        case = db.session.get(Case, session.case_id)
        if case is None or case.status is CaseStatus.DISCHARGED:
            continue
        for guardian in _current_guardians(case, now):
            key = f"session-reminder:{session.id}:{guardian.id}"
            if _queued(key):
                continue
            local = session.starts_at.astimezone(clinic_zone(case))
            with language_of(guardian):
                queue_email(
                    to=guardian.email or "",
                    subject=_("Reminder: a Rapport appointment tomorrow"),
                    body=_(
                        "Hello %(name)s,\n\nThis is a reminder of an appointment at %(time)s "
                        "(clinic time). Details are in Rapport:\n\n%(link)s\n\nYou can switch "
                        "reminders off on the page Your calendar link.\n",
                        name=guardian.display_name,
                        time=clock(local),
                        link=_portal(),
                    ),
                    dedupe_key=key,
                )
            queued += 1
    return queued


def practice_behind(case: Case, now: datetime) -> bool:
    """Fewer tries since Monday (clinic time) than the weekly target's share of the days gone."""
    target = db.session.scalar(
        select(func.max(Ladder.weekly_target)).where(
            Ladder.case_id == case.id, Ladder.retired_at.is_(None)
        )
    )
    if not target:
        return False
    local = now.astimezone(clinic_zone(case))
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    done = db.session.scalar(
        select(func.count(PracticeAttempt.id)).where(
            PracticeAttempt.case_id == case.id, PracticeAttempt.practiced_at >= monday
        )
    )
    expected = math.floor(target * (local.weekday() + 1) / 7)
    return (done or 0) < expected


def queue_practice_reminders(now: datetime) -> int:
    """Guardians whose chosen hour it is now (clinic time), once a day, when practice is behind."""
    links = db.session.scalars(
        select(GuardianLink)
        .join(User, GuardianLink.guardian_id == User.id)
        .where(User.reminders.is_(True), User.practice_reminder_hour.is_not(None))
    ).all()
    queued = 0
    for link in links:
        guardian, case = link.guardian, link.case
        if not link.is_current(now) or case.status is CaseStatus.DISCHARGED or not guardian.email:
            continue
        local = now.astimezone(clinic_zone(case))
        if local.hour != guardian.practice_reminder_hour or not practice_behind(case, now):
            continue
        key = f"practice-reminder:{guardian.id}:{local.date().isoformat()}"
        if _queued(key):
            continue
        with language_of(guardian):
            queue_email(
                to=guardian.email,
                subject=_("A reminder to practise today"),
                body=_(
                    "Hello %(name)s,\n\nThis week's practice is behind its goal. A short try "
                    "today helps. Rapport:\n\n%(link)s\n\nYou chose this reminder; change or "
                    "switch it off on the page Your calendar link.\n",
                    name=guardian.display_name,
                    link=_portal(),
                ),
                dedupe_key=key,
            )
        queued += 1
    return queued


def queue_all(now: datetime) -> int:
    return queue_session_reminders(now) + queue_practice_reminders(now)
