"""Answered stays answered (issue 13): a sent check-in opens showing its answer, can be changed
for EDIT_WINDOW after it was sent, and is read-only after that.

A change is a recorded fact too: `edited_at` is set, and a therapist's earlier read no longer
counts (the family sees "not read yet" until the changed answer is opened again).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from portal import db
from portal.db import utcnow
from portal.feedback.services import CheckinInput, FeedbackRuleError, check_feedback_alerts
from portal.models import User
from portal.models.feedback import SessionFeedback, TherapySession, WeeklyCheckin

EDIT_WINDOW = timedelta(hours=24)


def edit_until(item: SessionFeedback | WeeklyCheckin) -> datetime:
    return item.created_at + EDIT_WINDOW


def editable(item: SessionFeedback | WeeklyCheckin, now: datetime | None = None) -> bool:
    return (now or utcnow()) < edit_until(item)


def own_session_feedback(session: TherapySession, user: User) -> SessionFeedback | None:
    return db.session.scalars(
        select(SessionFeedback).where(
            SessionFeedback.session_id == session.id,
            SessionFeedback.respondent_key == f"guardian:{user.id}",
        )
    ).one_or_none()


def _check_editable(actor: User, item: SessionFeedback | WeeklyCheckin) -> None:
    if item.guardian_id != actor.id:
        raise FeedbackRuleError(_("Only the person who sent it can change it."))
    if not editable(item):
        raise FeedbackRuleError(
            _(
                "This answer was sent more than 24 hours ago and can no longer be changed. To add "
                "something, send a “How is it going?” note."
            )
        )


def do_edit_guardian_feedback(
    actor: User,
    feedback: SessionFeedback,
    *,
    heard: int,
    matters: int,
    approach: int,
    overall: int,
    comment: str,
) -> None:
    _check_editable(actor, feedback)
    values = {"heard": heard, "matters": matters, "approach": approach, "overall": overall}
    if any(not 0 <= value <= 10 for value in values.values()):
        raise FeedbackRuleError(_("Each answer is a number from 0 to 10."))
    for name, value in values.items():
        setattr(feedback, name, value)
    feedback.comment = comment.strip()
    feedback.edited_at = utcnow()
    feedback.read_at = None  # the earlier read was of the earlier answer
    feedback.read_by_id = None
    db.session.flush()
    check_feedback_alerts(feedback)


def do_edit_checkin(actor: User, checkin: WeeklyCheckin, data: CheckinInput) -> None:
    _check_editable(actor, checkin)
    if not 0 <= data.practice_days <= 7:
        raise FeedbackRuleError(_("Days of practice is a number from 0 to 7."))
    if not 0 <= data.difficulty <= 10:
        raise FeedbackRuleError(_("How hard it was is a number from 0 to 10."))
    checkin.practice_days = data.practice_days
    checkin.difficulty = data.difficulty
    checkin.accommodations = data.accommodations.strip()
    checkin.reducing = data.reducing.strip()
    checkin.observation = data.observation.strip()
    checkin.edited_at = utcnow()
    db.session.flush()
