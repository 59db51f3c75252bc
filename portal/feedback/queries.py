"""Scoped reads for sessions, feedback and alerts: objects are found only inside a case the user
may see (the case itself comes from `get_case_for`)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import NamedTuple

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import selectinload

from portal import db
from portal.cases.queries import get_in_case
from portal.models import User
from portal.models.feedback import CareAlert, SessionFeedback, TherapySession, WeeklyCheckin


def get_session_in(case_id: int, session_id: int) -> TherapySession:
    return get_in_case(TherapySession, "therapy_session", case_id, session_id)


def get_feedback_in(case_id: int, feedback_id: int) -> SessionFeedback:
    return get_in_case(SessionFeedback, "feedback", case_id, feedback_id)


def get_alert_in(case_id: int, alert_id: int) -> CareAlert:
    return get_in_case(CareAlert, "alert", case_id, alert_id)


def feedback_of_case(case_id: int) -> list[SessionFeedback]:
    """All feedback of a case: for the case's therapists only."""
    return list(
        db.session.scalars(
            select(SessionFeedback)
            .where(SessionFeedback.case_id == case_id)
            .options(selectinload(SessionFeedback.session), selectinload(SessionFeedback.guardian))
            .order_by(SessionFeedback.created_at, SessionFeedback.id)
        )
    )


def own_feedback(case_id: int, guardian_id: int) -> list[SessionFeedback]:
    """A guardian's own feedback, never the other guardian's or the child's."""
    return list(
        db.session.scalars(
            select(SessionFeedback)
            .where(SessionFeedback.case_id == case_id, SessionFeedback.guardian_id == guardian_id)
            .options(
                selectinload(SessionFeedback.session),
                selectinload(SessionFeedback.read_by),
                selectinload(SessionFeedback.answered_by),
            )
            .order_by(SessionFeedback.created_at.desc())
        )
    )


class AnsweredFeedback(NamedTuple):
    """ "You said, we did" on the family page: one answered check-in as plain columns."""

    comment: str
    answer: str
    session_starts_at: datetime
    answered_by_name: str | None


def answered_feedback(case_id: int, guardian_id: int, limit: int) -> list[AnsweredFeedback]:
    """A guardian's own feedback that the therapist answered, newest first, at most `limit`, with
    its session's start and who answered (issue 17: plain rows, not the feedback, its session
    and the answering therapist as objects)."""
    values = {"case_id": case_id, "guardian_id": guardian_id, "limit": limit}
    return [AnsweredFeedback(*row) for row in db.read_columns(_answered_statement(), values)]


@cache
def _answered_statement() -> Select[str, str, datetime, str | None]:
    """Built once, on first use (issue 17: the family page builds it on every visit)."""
    return (
        select(
            SessionFeedback.comment,
            SessionFeedback.answer,
            TherapySession.starts_at,
            User.display_name,
        )
        .join(TherapySession, TherapySession.id == SessionFeedback.session_id)
        .outerjoin(User, User.id == SessionFeedback.answered_by_id)
        .where(
            SessionFeedback.case_id == bindparam("case_id"),
            SessionFeedback.guardian_id == bindparam("guardian_id"),
            SessionFeedback.answer != "",
        )
        .order_by(SessionFeedback.created_at.desc())
        .limit(bindparam("limit"))
    )


def checkins_of_case(case_id: int) -> list[WeeklyCheckin]:
    return list(
        db.session.scalars(
            select(WeeklyCheckin)
            .where(WeeklyCheckin.case_id == case_id)
            .options(selectinload(WeeklyCheckin.guardian))
            .order_by(WeeklyCheckin.week_start, WeeklyCheckin.id)
        )
    )


def own_checkins(case_id: int, guardian_id: int) -> list[WeeklyCheckin]:
    return list(
        db.session.scalars(
            select(WeeklyCheckin)
            .where(WeeklyCheckin.case_id == case_id, WeeklyCheckin.guardian_id == guardian_id)
            .order_by(WeeklyCheckin.week_start.desc())
        )
    )


def open_alerts(case_ids: list[int], limit: int = 50) -> list[CareAlert]:
    if not case_ids:
        return []
    return list(
        db.session.scalars(
            select(CareAlert)
            .where(CareAlert.case_id.in_(case_ids), CareAlert.resolved_at.is_(None))
            .order_by(CareAlert.created_at.desc())
            .limit(limit)
        )
    )


def alerts_of_case(case_id: int) -> list[CareAlert]:
    return list(
        db.session.scalars(
            select(CareAlert)
            .where(CareAlert.case_id == case_id)
            .order_by(CareAlert.created_at.desc())
        )
    )


def open_alert_counts(case_ids: list[int]) -> dict[int, int]:
    if not case_ids:
        return {}
    rows = db.session.execute(
        select(CareAlert.case_id, func.count())
        .where(CareAlert.case_id.in_(case_ids), CareAlert.resolved_at.is_(None))
        .group_by(CareAlert.case_id)
    )
    return {case_id: count for case_id, count in rows}
