"""What the guardian's family page reads besides its case and "What needs you": each statement is
built once, with the guardian, the case and the moment as bound parameters, and reads plain columns
where the page shows a few of them (issue 17: building statements and objects was most of the
page's cost)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import NamedTuple

from sqlalchemy import Select, bindparam, select

from portal import db
from portal.cases.queries import case_ids_visible_to
from portal.db import utcnow
from portal.labels import named_kin
from portal.ladders.scales import tenths
from portal.models import (
    Case,
    Child,
    ConsentAction,
    ConsentKind,
    ConsentRecord,
    Role,
    User,
)
from portal.models.case_rows import PlainCase
from portal.models.ladders import Completion, LadderStep, PracticeAttempt


@dataclass(frozen=True)
class ChildTab:
    """One child in the switcher: the case and the child's first name."""

    id: int
    first_name: str


@cache
def _tabs_statement() -> Select[int, str]:
    visible = case_ids_visible_to(Role.GUARDIAN, bindparam("user_id"), bindparam("now"))
    return (
        select(Case.id, Child.first_name)
        .join(Child, Child.id == Case.child_id)
        .where(Case.id.in_(visible))
        .order_by(Case.id)
    )


def child_tabs(guardian: User) -> list[ChildTab]:
    """Every case of this guardian (the cases `cases_for` gives, in the same order)."""
    rows = db.read_columns(_tabs_statement(), {"user_id": guardian.id, "now": utcnow()})
    return [ChildTab(case_id, first_name) for case_id, first_name in rows]


class ConsentLine(NamedTuple):
    """One consent record as the family page shows it and its checks read it (a row of plain
    columns, issue 17: loading the records and the people who gave them was ~0.1 ms)."""

    kind: ConsentKind
    action: ConsentAction
    given_by_id: int
    given_by_name: str
    document_version: str
    recorded_at: datetime


@cache
def _consent_statement() -> Select[ConsentKind, ConsentAction, int, str, str, datetime]:
    return (
        select(
            ConsentRecord.kind,
            ConsentRecord.action,
            ConsentRecord.given_by_id,
            User.display_name,
            ConsentRecord.document_version,
            ConsentRecord.recorded_at,
        )
        .join(User, User.id == ConsentRecord.given_by_id)
        .where(ConsentRecord.case_id == bindparam("case_id"))
        .order_by(ConsentRecord.id.desc())
    )


def consent_records_of(case: PlainCase) -> list[ConsentLine]:
    """Every consent record of the case, newest first, with the name of who gave it."""
    rows = db.read_columns(_consent_statement(), {"case_id": case.id})
    return [ConsentLine(*row) for row in rows]


@dataclass(frozen=True)
class LatestPractice:
    """One practice entry as the family page lists it (the full log is on the progress page)."""

    step_title: str
    picture: str
    practiced_at: datetime
    peak: int
    completion: Completion
    coach: str

    def rating(self, which: str) -> str:
        return tenths(getattr(self, which))


@cache
def _practice_statement() -> Select[str, str, datetime, int, Completion, str]:
    return (
        select(
            LadderStep.title,
            LadderStep.picture,
            PracticeAttempt.practiced_at,
            PracticeAttempt.fear_peak,
            PracticeAttempt.completion,
            PracticeAttempt.coach,
        )
        .join(LadderStep, LadderStep.id == PracticeAttempt.step_id)
        .where(PracticeAttempt.case_id == bindparam("case_id"))
        .order_by(PracticeAttempt.practiced_at.desc(), PracticeAttempt.id.desc())
        .limit(bindparam("limit"))
    )


def latest_practice(case: PlainCase, limit: int) -> list[LatestPractice]:
    """The case's last `limit` practice entries, newest first (as `ladders.queries.practice_log`
    orders them), read as plain columns in one statement."""
    rows = db.read_columns(_practice_statement(), {"case_id": case.id, "limit": limit})
    return [
        LatestPractice(title, picture, practiced_at, peak, completion, named_kin(coach))
        for title, picture, practiced_at, peak, completion, coach in rows
    ]
