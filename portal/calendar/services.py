"""A person's private calendar link: made, replaced and stopped (revoked) by its owner."""

from __future__ import annotations

import secrets

from sqlalchemy import select, update

from portal import db
from portal.cases.queries import visible_case_ids
from portal.db import utcnow
from portal.models import CalendarFeed, SessionStatus, TherapySession, User
from portal.security import token_hash


def active_feed(user: User) -> CalendarFeed | None:
    return db.session.scalars(
        select(CalendarFeed).where(
            CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None)
        )
    ).first()


def do_revoke_feed(user: User) -> None:
    db.session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def do_make_feed(user: User) -> str:
    """A new link (any earlier one stops working); the token is shown once, then only its hash
    is kept."""
    do_revoke_feed(user)
    token = secrets.token_urlsafe(32)
    db.session.add(CalendarFeed(user_id=user.id, token_hash=token_hash(token)))
    db.session.flush()
    return token


def feed_owner(token: str) -> User | None:
    feed = db.session.scalars(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == token_hash(token), CalendarFeed.revoked_at.is_(None)
        )
    ).first()
    if feed is None:
        return None
    owner = db.session.get(User, feed.user_id)
    return owner if owner is not None and owner.active else None


def upcoming_sessions(user: User) -> list[TherapySession]:
    """Planned sessions of every case this person is on now, soonest first (one query)."""
    return list(
        db.session.scalars(
            select(TherapySession)
            .where(
                TherapySession.case_id.in_(visible_case_ids(user)),
                TherapySession.status == SessionStatus.SCHEDULED,
                TherapySession.starts_at > utcnow(),
            )
            .order_by(TherapySession.starts_at)
            .limit(100)
        )
    )
