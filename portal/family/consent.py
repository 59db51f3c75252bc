"""Reads about a guardian's own consent answers that other features need (the sign-in asks
again for the terms of use after they were withdrawn)."""

from __future__ import annotations

from sqlalchemy import func, select

from portal import db
from portal.models import ConsentAction, ConsentKind, ConsentRecord, User


def terms_withdrawn_cases(user: User) -> list[int]:
    """The cases where this guardian's latest answer to the terms of use is a withdrawal."""
    latest = (
        select(func.max(ConsentRecord.id))
        .where(
            ConsentRecord.given_by_id == user.id,
            ConsentRecord.kind == ConsentKind.PORTAL_TERMS,
        )
        .group_by(ConsentRecord.case_id)
    )
    return list(
        db.session.scalars(
            select(ConsentRecord.case_id).where(
                ConsentRecord.id.in_(latest), ConsentRecord.action == ConsentAction.REVOKED
            )
        )
    )
