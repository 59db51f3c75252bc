"""Demo clinic, audit trail: a few days of who looked at Leo's and Maya's records, so the admin's
report (Dr. Rivera) and "Who viewed Leo's record" (Carla) have something to show at once.
Safe to run again: it does nothing once David's visit to Leo's plan is on the trail.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from portal import audit, db
from portal.db import utcnow
from portal.demo.people import family, person
from portal.models import AuditLog, Case, Ladder, PlanStatus, PlanVersion, User


def _user(key: str) -> User:
    return person(f"{key}@demo.rapport.test")


def _plan_id(case: Case) -> int | None:
    return db.session.scalar(
        select(PlanVersion.id).where(
            PlanVersion.case_id == case.id, PlanVersion.status == PlanStatus.ACTIVE
        )
    )


def _ladder_id(case: Case) -> int | None:
    return db.session.scalar(select(Ladder.id).where(Ladder.case_id == case.id).limit(1))


def load_demo_audit() -> bool:
    leo, maya = family("Leo"), family("Maya")
    david = _user("david")
    if db.session.scalar(
        select(AuditLog.id).where(AuditLog.child_id == leo.child_id, AuditLog.actor_id == david.id)
    ):
        return False
    rivera, chen, carla, ana = _user("rivera"), _user("chen"), _user("carla"), _user("ana")
    leo_user = db.session.get(User, leo.child.user_id) if leo.child.user_id else None
    start = utcnow() - timedelta(days=3)
    leo_plan, leo_ladder, maya_plan = _plan_id(leo), _plan_id(maya), _plan_id(maya)
    history: list[tuple[timedelta, User | None, str, str, Case | None, str | None, int | None]] = [
        # after: who, action, outcome, whose record, what, which
        (timedelta(hours=1), rivera, "login", "success", None, "user", rivera.id),
        (timedelta(hours=1, minutes=2), rivera, "read", "success", leo, "case", leo.id),
        (timedelta(hours=1, minutes=4), rivera, "update", "success", leo, "plan", leo_plan),
        (timedelta(hours=1, minutes=9), rivera, "print", "success", leo, "plan", leo_plan),
        (timedelta(hours=5), chen, "read", "denied", leo, "case", leo.id),
        (timedelta(hours=20), david, "login", "success", None, "user", david.id),
        (timedelta(hours=20, minutes=1), david, "read", "success", leo, "plan", leo_plan),
        (timedelta(hours=20, minutes=3), david, "read", "success", leo, "ladder", leo_ladder),
        (timedelta(hours=26), leo_user, "read", "success", leo, "ladder", leo_ladder),
        (timedelta(hours=27), carla, "read", "success", leo, "plan", leo_plan),
        (timedelta(hours=30), ana, "read", "success", maya, "plan", maya_plan),
        (timedelta(hours=50), rivera, "read", "success", maya, "plan", maya_plan),
    ]
    for after, who, action, outcome, case, object_type, object_id in history:
        if who is None:
            continue
        when: datetime = start + after
        audit.append_row(
            db.session,
            audit.row_values(
                created_at=when,
                action=action,
                outcome=outcome,
                child_id=case.child_id if case else None,
                object_type=object_type,
                object_id=object_id,
                actor=who,
                detail=None,
            ),
        )
    audit.seal(db.session)  # a history written at once is sealed at once
    return True
