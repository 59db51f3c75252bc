"""Where a signed-in person lands: their own start page."""

from __future__ import annotations

from flask import url_for

from portal.models import User


def home_for(user: User) -> str:
    if user.is_therapist:
        return url_for("cases.caseload")
    if user.is_guardian:
        return url_for("family.home")
    return url_for("child.home")
