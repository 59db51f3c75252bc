"""The running totals the database keeps (issue 17: `case_tallies`, `step_days`) and the same
totals recounted from the rows they add up, in Python, so a test can check that a writer left
them agreeing. The recount is the definition: a case's practice entries, its tokens earned and
spent, and per step and UTC day the lowest peak fear of that day's tries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models.ladders import CaseTally, PracticeAttempt, StepDay, TokenEntry, TokenKind


@dataclass(frozen=True)
class Totals:
    cases: dict[int, tuple[int, int, int]]  # case id: (practices, tokens earned, tokens spent)
    days: dict[tuple[int, date], int]  # (step id, UTC day): the lowest peak fear


def kept(session: Session) -> Totals:
    """The totals as the database keeps them (a case whose rows all went keeps zeros: left out)."""
    cases = {
        row.case_id: (row.practices, row.tokens_earned, row.tokens_spent)
        for row in session.scalars(select(CaseTally))
        if (row.practices, row.tokens_earned, row.tokens_spent) != (0, 0, 0)
    }
    days = {(d.step_id, d.day): d.lowest_peak for d in session.scalars(select(StepDay))}
    return Totals(cases, days)


def recounted(session: Session) -> Totals:
    """The same totals counted afresh from every practice entry and ledger row."""
    cases: dict[int, tuple[int, int, int]] = {}
    days: dict[tuple[int, date], int] = {}
    entries = select(
        PracticeAttempt.case_id,
        PracticeAttempt.step_id,
        PracticeAttempt.practiced_at,
        PracticeAttempt.fear_peak,
    )
    for case_id, step_id, practiced_at, peak in session.execute(entries):
        practices, earned, spent = cases.get(case_id, (0, 0, 0))
        cases[case_id] = (practices + 1, earned, spent)
        key = (step_id, practiced_at.astimezone(UTC).date())
        days[key] = min(peak, days.get(key, peak))
    ledger = select(TokenEntry.case_id, TokenEntry.kind, TokenEntry.amount)
    for case_id, kind, amount in session.execute(ledger):
        practices, earned, spent = cases.get(case_id, (0, 0, 0))
        if kind is TokenKind.EARNED:
            cases[case_id] = (practices, earned + amount, spent)
        else:
            cases[case_id] = (practices, earned, spent - amount)
    return Totals(cases, days)
