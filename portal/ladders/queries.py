"""Scoped reads for ladders and practice. Everything is reached through a case the user may see
(`visible_case_ids`); an object of another case is simply not found (404), like a missing one.

The practice log is handed to templates as `PracticeRow`s: a teen's private note is removed here,
before any template sees it, for everyone but the teen and the therapists (AZ-10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, Select, bindparam, func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from portal import db
from portal.cases.queries import get_in_case, reached, visible_case_ids
from portal.labels import named_kin
from portal.ladders.scales import tenths
from portal.models import Case, User
from portal.models.case_rows import AnyCase
from portal.models.ladders import (
    CaseTally,
    Cheer,
    Completion,
    Ladder,
    LadderStep,
    PracticeAttempt,
    Redemption,
    Reward,
    StepSuggestion,
    SuggestionStatus,
)
from portal.models.plans import Goal, PlanStatus, PlanVersion
from portal.policies import is_the_child, therapist_on

# The statements the child's tracker sends on every visit are built once and reused with the
# case as a bound value (issue 17: building each anew cost about as much as running it).


def ladders_of(
    case_id: int, *, include_retired: bool = False, joined: bool = False
) -> list[Ladder]:
    """The case's ladders with their steps, oldest first. `joined`: the steps joined into the
    same statement (one read, for a page with few ladders: the child's tracker); else a second
    read for all the steps."""
    stmt = _ladders_statement(include_retired, joined)
    return list(db.session.scalars(stmt, {"case_id": case_id}).unique())


@cache
def _ladders_statement(include_retired: bool, joined: bool) -> Select[Ladder]:
    steps = joinedload(Ladder.steps) if joined else selectinload(Ladder.steps)
    stmt = (
        select(Ladder)
        .where(Ladder.case_id == bindparam("case_id"))
        .options(steps)
        .order_by(Ladder.id)
    )
    if not include_retired:
        stmt = stmt.where(Ladder.retired_at.is_(None))
    return stmt


def get_ladder_for(user: User, ladder_id: int) -> Ladder:
    ladder = db.session.scalars(
        select(Ladder)
        .where(Ladder.id == ladder_id, Ladder.case_id.in_(visible_case_ids(user)))
        .options(selectinload(Ladder.steps))
    ).one_or_none()
    return reached(ladder, "ladder")


def get_step_in(ladder: Ladder, step_id: int) -> LadderStep:
    step = next((s for s in ladder.steps if s.id == step_id), None)
    return reached(step, "ladder_step", ladder.case_id)


def get_case_step(case: Case, step_id: int) -> LadderStep:
    """A step of the case's open ladders, with its ladder (from the same join: logging a practice
    reads the ladder's mastery rule, with no second read for it)."""
    step = db.session.scalars(
        _case_step_statement(), {"step_id": step_id, "case_id": case.id}
    ).one_or_none()
    return reached(step, "ladder_step", case.id)


@cache
def _case_step_statement() -> Select[LadderStep]:
    """`get_case_step`'s statement, built once (issue 17), the step and the case bound."""
    return (
        select(LadderStep)
        .join(Ladder, LadderStep.ladder_id == Ladder.id)
        .where(
            LadderStep.id == bindparam("step_id"),
            Ladder.case_id == bindparam("case_id"),
            Ladder.retired_at.is_(None),
            LadderStep.retired_at.is_(None),
        )
        .options(contains_eager(LadderStep.ladder))
    )


def get_attempt_for(user: User, attempt_id: int) -> PracticeAttempt:
    attempt = db.session.scalars(
        select(PracticeAttempt).where(
            PracticeAttempt.id == attempt_id,
            PracticeAttempt.case_id.in_(visible_case_ids(user)),
        )
    ).one_or_none()
    return reached(attempt, "practice")


def get_suggestion_in(case_id: int, suggestion_id: int) -> StepSuggestion:
    return get_in_case(StepSuggestion, "step_suggestion", case_id, suggestion_id)


def get_reward_in(case_id: int, reward_id: int) -> Reward:
    return get_in_case(Reward, "reward", case_id, reward_id)


def get_redemption_in(case_id: int, redemption_id: int) -> Redemption:
    return get_in_case(Redemption, "redemption", case_id, redemption_id)


def goals_of(case: Case) -> list[Goal]:
    """Goals of the active plan (else the newest version), one per lineage."""
    plans = db.session.scalars(
        select(PlanVersion)
        .where(PlanVersion.case_id == case.id)
        .options(selectinload(PlanVersion.goals))
        .order_by(PlanVersion.number.desc())
    ).all()
    active = next((p for p in plans if p.status is PlanStatus.ACTIVE), None)
    chosen = active or (plans[0] if plans else None)
    return list(chosen.goals) if chosen else []


def rewards_of(case_id: int) -> list[Reward]:
    return list(db.session.scalars(_rewards_statement(), {"case_id": case_id}))


@cache
def _rewards_statement() -> Select[Reward]:
    return select(Reward).where(Reward.case_id == bindparam("case_id")).order_by(Reward.cost)


def redemptions_of(case_id: int) -> list[Redemption]:
    return list(db.session.scalars(_redemptions_statement(), {"case_id": case_id}))


@cache
def _redemptions_statement() -> Select[Redemption]:
    return (
        select(Redemption)
        .where(Redemption.case_id == bindparam("case_id"))
        .options(selectinload(Redemption.reward), selectinload(Redemption.confirmed_by))
        .order_by(Redemption.id.desc())
    )


def waiting_suggestions(case_id: int) -> list[StepSuggestion]:
    return list(
        db.session.scalars(
            select(StepSuggestion)
            .where(
                StepSuggestion.case_id == case_id,
                StepSuggestion.status == SuggestionStatus.WAITING,
            )
            .options(selectinload(StepSuggestion.suggested_by))
            .order_by(StepSuggestion.id)
        )
    )


class UnseenCheer(NamedTuple):
    sticker: str
    message: str
    sent_by_name: str


def unseen_cheers(case_id: int) -> list[UnseenCheer]:
    """The cheers the child has not seen yet, oldest first, with who sent each (plain columns,
    one statement however many: issue 17)."""
    rows = db.read_columns(_unseen_cheers_statement(), {"case_id": case_id})
    return [UnseenCheer(*row) for row in rows]


@cache
def _unseen_cheers_statement() -> Select[str, str, str]:
    return (
        select(Cheer.sticker, Cheer.message, User.display_name)
        .join(User, User.id == Cheer.sent_by_id)
        .where(Cheer.case_id == bindparam("case_id"), Cheer.seen_at.is_(None))
        .order_by(Cheer.id)
    )


class MenuReward(NamedTuple):
    """An approved reward as the child's tracker offers it."""

    id: int
    title: str
    picture: str
    cost: int
    waiting: bool  # asked for and not yet confirmed by a guardian


def reward_menu(case_id: int) -> list[MenuReward]:
    """The approved rewards, cheapest first, each with whether the child asked for it and waits
    (plain columns, one statement for what were two reads of every reward and redemption)."""
    rows = db.read_columns(_reward_menu_statement(), {"case_id": case_id})
    return [MenuReward(*row) for row in rows]


@cache
def _reward_menu_statement() -> Select[int, str, str, int, bool]:
    case_id: BindParameter[int] = bindparam("case_id")
    waiting = (
        select(Redemption.id)
        .where(
            Redemption.case_id == case_id,
            Redemption.reward_id == Reward.id,
            Redemption.confirmed_at.is_(None),
        )
        .exists()
    )
    return (
        select(Reward.id, Reward.title, Reward.picture, Reward.cost, waiting)
        .where(Reward.case_id == case_id, Reward.approved_at.is_not(None))
        .order_by(Reward.cost)
    )


@dataclass
class PracticeRow:
    """One attempt as a viewer may see it."""

    id: int
    step_id: int
    step_title: str
    picture: str
    practiced_at: datetime
    entered_by: str
    on_behalf_of_child: bool
    coach: str
    completion: Completion
    duration_minutes: int | None
    before: int | None
    peak: int
    after: int | None
    prediction: str
    outcome: str
    note: str  # empty when the viewer may not read it
    note_is_private: bool
    cheers: list[Cheer] = field(default_factory=list)

    def rating(self, which: str) -> str:
        return tenths(getattr(self, which))


def may_read_private_notes(user: User, case: AnyCase) -> bool:
    return therapist_on(user, case) or is_the_child(user, case)


def _note_seen(note: str, private: bool, show_private: bool) -> tuple[str, bool]:
    """(the note as this viewer sees it, whether it is marked private to them): a private note is
    removed for a viewer who may not read it (AZ-10); the one rule for every practice list."""
    hidden = private and not show_private
    return ("" if hidden else note), (private and not hidden)


def practice_log(user: User, case: Case, *, limit: int | None = None) -> list[PracticeRow]:
    show_private = may_read_private_notes(user, case)
    values: dict[str, object] = {"case_id": case.id}
    if limit:
        values["limit"] = limit
    rows = []
    for attempt in db.session.scalars(_practice_log_statement(bool(limit)), values):
        note, note_is_private = _note_seen(attempt.note, attempt.note_private, show_private)
        rows.append(
            PracticeRow(
                id=attempt.id,
                step_id=attempt.step_id,
                step_title=attempt.step.title,
                picture=attempt.step.picture,
                practiced_at=attempt.practiced_at,
                entered_by=attempt.entered_by.display_name,
                on_behalf_of_child=attempt.on_behalf_of_child,
                coach=named_kin(attempt.coach),
                completion=attempt.completion,
                duration_minutes=attempt.duration_minutes,
                before=attempt.fear_before,
                peak=attempt.fear_peak,
                after=attempt.fear_after,
                prediction=attempt.prediction,
                outcome=attempt.outcome,
                note=note,
                note_is_private=note_is_private,
                cheers=list(attempt.cheers),
            )
        )
    return rows


@cache
def _practice_log_statement(limited: bool) -> Select[PracticeAttempt]:
    stmt = (
        select(PracticeAttempt)
        .where(PracticeAttempt.case_id == bindparam("case_id"))
        .options(
            joinedload(PracticeAttempt.step),
            joinedload(PracticeAttempt.entered_by),
            selectinload(PracticeAttempt.cheers).joinedload(Cheer.sent_by),
        )
        .order_by(PracticeAttempt.practiced_at.desc(), PracticeAttempt.id.desc())
    )
    return stmt.limit(bindparam("limit")) if limited else stmt


class CheerWords(NamedTuple):
    sticker: str
    message: str


@dataclass(frozen=True)
class RecentTry:
    """One of the child's last tries as their tracker lists it (issue 17: read as plain columns,
    with its cheers, in one statement): the private note is already removed for a viewer who may
    not read it, as in `practice_log` (AZ-10)."""

    step_title: str
    practiced_at: datetime
    peak: int
    completion: Completion
    outcome: str
    note: str  # empty when the viewer may not read it
    note_is_private: bool
    cheers: list[CheerWords]  # oldest first

    def rating(self, which: str) -> str:
        return tenths(getattr(self, which))


def recent_tries(user: User, case: AnyCase, limit: int) -> list[RecentTry]:
    """The case's newest `limit` practice entries, newest first, as `practice_log` orders them."""
    show_private = may_read_private_notes(user, case)
    tries: dict[int, RecentTry] = {}
    for row in db.read_columns(_recent_statement(), {"case_id": case.id, "limit": limit}):
        entry = tries.get(row.id)
        if entry is None:
            note, note_is_private = _note_seen(row.note, row.note_private, show_private)
            entry = tries[row.id] = RecentTry(
                step_title=row.title,
                practiced_at=row.practiced_at,
                peak=row.fear_peak,
                completion=row.completion,
                outcome=row.outcome,
                note=note,
                note_is_private=note_is_private,
                cheers=[],
            )
        if row.cheer_id is not None:
            entry.cheers.append(CheerWords(row.sticker, row.message))
    return list(tries.values())


@cache
def _recent_statement() -> Select[Any]:
    newest = (
        select(
            PracticeAttempt.id,
            PracticeAttempt.step_id,
            PracticeAttempt.practiced_at,
            PracticeAttempt.fear_peak,
            PracticeAttempt.completion,
            PracticeAttempt.outcome,
            PracticeAttempt.note,
            PracticeAttempt.note_private,
        )
        .where(PracticeAttempt.case_id == bindparam("case_id"))
        .order_by(PracticeAttempt.practiced_at.desc(), PracticeAttempt.id.desc())
        .limit(bindparam("limit"))
        .subquery("newest")
    )
    return (
        select(
            newest.c.id,
            newest.c.practiced_at,
            newest.c.fear_peak,
            newest.c.completion,
            newest.c.outcome,
            newest.c.note,
            newest.c.note_private,
            LadderStep.title,
            Cheer.id.label("cheer_id"),
            Cheer.sticker,
            Cheer.message,
        )
        .join(LadderStep, LadderStep.id == newest.c.step_id)
        .outerjoin(Cheer, Cheer.attempt_id == newest.c.id)
        .order_by(newest.c.practiced_at.desc(), newest.c.id.desc(), Cheer.id)
    )


@dataclass(frozen=True)
class JarTotals:
    practices: int  # every practice entry of the case (stars for the youngest)
    balance: int  # tokens earned minus tokens spent
    pending: int  # tokens promised to rewards a guardian has not confirmed yet


def jar_totals(case_id: int) -> JarTotals:
    """The child's screen's three counters in one query (not the whole practice log)."""
    row = db.read_columns(_jar_statement(), {"case_id": case_id}).one()
    return JarTotals(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


@cache
def _jar_statement() -> Select[int, int, int]:
    # The practices and the balance are the case's running totals, one row kept by the database
    # as each entry is written (issue 17: not counted over a history that only grows); a case
    # that never practised has no row (NULL, read as 0). The waiting rewards are few.
    case_id: BindParameter[int] = bindparam("case_id")
    practices = select(CaseTally.practices).where(CaseTally.case_id == case_id).scalar_subquery()
    balance = (
        select(CaseTally.tokens_earned - CaseTally.tokens_spent)
        .where(CaseTally.case_id == case_id)
        .scalar_subquery()
    )
    pending = (
        select(func.coalesce(func.sum(Redemption.cost), 0))
        .where(Redemption.case_id == case_id, Redemption.confirmed_at.is_(None))
        .scalar_subquery()
    )
    return select(practices, balance, pending)
