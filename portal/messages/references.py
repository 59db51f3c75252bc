"""What a message can be about: a goal, a ladder step or a practice entry of the same case.

Each kind has a resolver that lists what may be chosen and names what was chosen, always within
the thread's case and only what the family can see; anything else is not a valid reference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Integer,
    Select,
    bindparam,
    cast,
    literal,
    null,
    select,
    union_all,
)

from portal import db
from portal.i18n import gettext as _
from portal.i18n import moments
from portal.models import ReferenceType
from portal.models.case_rows import AnyCase
from portal.models.ladders import Ladder, LadderStep, PracticeAttempt
from portal.models.plans import Goal, PlanStatus, PlanVersion


@dataclass(frozen=True)
class Reference:
    ref_type: ReferenceType
    ref_id: int

    @property
    def value(self) -> str:
        return f"{self.ref_type.value}:{self.ref_id}"

    @classmethod
    def parse(cls, value: str | None) -> Reference | None:
        """ "goal:12" → Reference; anything malformed → None."""
        kind, _, number = (value or "").partition(":")
        try:
            return cls(ReferenceType(kind), int(number))
        except ValueError:
            return None


@dataclass(frozen=True)
class Resolver:
    # (case id, ids) → {id: label} for the ids that really belong to the case
    labels: Callable[[int, Iterable[int]], dict[int, str]]


def _goal_labels(case_id: int, ids: Iterable[int]) -> dict[int, str]:
    rows = db.read_columns(_goal_labels_statement(), {"case_id": case_id, "ids": list(ids)})
    return {goal_id: _("goal: %(goal)s", goal=text) for goal_id, text in rows}


def _step_labels(case_id: int, ids: Iterable[int]) -> dict[int, str]:
    rows = db.read_columns(_step_labels_statement(), {"case_id": case_id, "ids": list(ids)})
    return {
        step_id: _("step %(position)s: %(step)s", position=position, step=title)
        for step_id, position, title in rows
    }


def _practice_labels(case_id: int, ids: Iterable[int]) -> dict[int, str]:
    """The entries of `ids` (at most 50). Step title and day only: a teen's private note never
    travels into a message."""
    rows = db.read_columns(_practice_statement(), {"case_id": case_id, "ids": list(ids)})
    day = moments("day")  # as local_datetime(when, "day"), the zone and language looked up once
    return {
        attempt_id: _("practice on %(day)s: %(step)s", day=day(when), step=title)
        for attempt_id, when, title in rows
    }


# Each statement is built once and reused with the case (and ids) as bound values (issue 17:
# building them anew was most of the compose form's cost).


@cache
def _goal_labels_statement() -> Select[int, str]:
    return (
        select(Goal.id, Goal.child_text)
        .join(PlanVersion, Goal.plan_version_id == PlanVersion.id)
        .where(
            PlanVersion.case_id == bindparam("case_id"),
            PlanVersion.status.in_([PlanStatus.ACTIVE, PlanStatus.SUPERSEDED]),
            Goal.id.in_(bindparam("ids", expanding=True)),
        )
    )


@cache
def _step_labels_statement() -> Select[int, int, str]:
    return (
        select(LadderStep.id, LadderStep.position, LadderStep.title)
        .join(Ladder, LadderStep.ladder_id == Ladder.id)
        .where(
            Ladder.case_id == bindparam("case_id"),
            LadderStep.id.in_(bindparam("ids", expanding=True)),
        )
    )


@cache
def _practice_statement() -> Select[int, datetime, str]:
    return (
        select(PracticeAttempt.id, PracticeAttempt.practiced_at, LadderStep.title)
        .join(LadderStep, PracticeAttempt.step_id == LadderStep.id)
        .where(
            PracticeAttempt.case_id == bindparam("case_id"),
            PracticeAttempt.id.in_(bindparam("ids", expanding=True)),
        )
        .order_by(PracticeAttempt.practiced_at.desc())
        .limit(50)
    )


@cache
def _options_statement() -> CompoundSelect[str, int, str, datetime | None, int | None, int | None]:
    """What the compose form offers, in one statement for the three kinds (issue 17: three
    statements were a tenth of the thread page): the five newest practice entries (first, so
    their moment is read as a moment), the active plan's goals, the open ladders' open steps.
    Columns: kind, id, words, the entry's moment, then the goal's or the step's order (position;
    the step's ladder and position)."""
    case_id: BindParameter[int] = bindparam("case_id")
    # Typed empty columns: PostgreSQL gives two untyped NULLs the type text, which no integer
    # column of a later branch then matches.
    no_number, no_moment = cast(null(), Integer), cast(null(), PracticeAttempt.practiced_at.type)
    newest = (
        select(PracticeAttempt.id, PracticeAttempt.practiced_at, LadderStep.title)
        .join(LadderStep, PracticeAttempt.step_id == LadderStep.id)
        .where(PracticeAttempt.case_id == case_id)
        .order_by(PracticeAttempt.practiced_at.desc())
        .limit(5)
        .subquery("newest")
    )
    practice = select(
        literal(ReferenceType.PRACTICE_ATTEMPT.value).label("kind"),
        newest.c.id,
        newest.c.title.label("words"),
        newest.c.practiced_at.label("at"),
        no_number.label("first"),
        no_number.label("second"),
    )
    goals = (
        select(
            literal(ReferenceType.GOAL.value),
            Goal.id,
            Goal.child_text,
            no_moment,
            Goal.position,
            no_number,
        )
        .join(PlanVersion, Goal.plan_version_id == PlanVersion.id)
        .where(PlanVersion.case_id == case_id, PlanVersion.status == PlanStatus.ACTIVE)
    )
    steps = (
        select(
            literal(ReferenceType.LADDER_STEP.value),
            LadderStep.id,
            LadderStep.title,
            no_moment,
            Ladder.id,
            LadderStep.position,
        )
        .join(Ladder, LadderStep.ladder_id == Ladder.id)
        .where(
            Ladder.case_id == case_id,
            Ladder.retired_at.is_(None),
            LadderStep.retired_at.is_(None),
        )
    )
    return union_all(practice, goals, steps)


RESOLVERS: dict[ReferenceType, Resolver] = {
    ReferenceType.GOAL: Resolver(_goal_labels),
    ReferenceType.LADDER_STEP: Resolver(_step_labels),
    ReferenceType.PRACTICE_ATTEMPT: Resolver(_practice_labels),
}


def reference_choices(case: AnyCase) -> list[tuple[str, str]]:
    """(value, label) pairs for the compose form's "about" list, this case only: the goals in
    their order, the steps by ladder and position, then the five newest practice entries, newest
    first."""
    rows: dict[str, list[Any]] = {kind.value: [] for kind in ReferenceType}
    for row in db.read_columns(_options_statement(), {"case_id": case.id}):
        rows[row.kind].append(row)
    # Each kind sorted here, stably (a kind's rows come in the order their branch read them).
    goals = sorted(rows[ReferenceType.GOAL.value], key=lambda row: row.first)
    steps = sorted(rows[ReferenceType.LADDER_STEP.value], key=lambda row: (row.first, row.second))
    tries = sorted(rows[ReferenceType.PRACTICE_ATTEMPT.value], key=lambda r: r.at, reverse=True)
    day = moments("day")  # as local_datetime(when, "day"), the zone and language looked up once
    goal, step, practice = (
        ReferenceType.GOAL,
        ReferenceType.LADDER_STEP,
        ReferenceType.PRACTICE_ATTEMPT,
    )
    return [
        *((Reference(goal, r.id).value, _("goal: %(goal)s", goal=r.words)) for r in goals),
        *(
            (
                Reference(step, r.id).value,
                _("step %(position)s: %(step)s", position=r.second, step=r.words),
            )
            for r in steps
        ),
        *(
            (
                Reference(practice, r.id).value,
                _("practice on %(day)s: %(step)s", day=day(r.at), step=r.words),
            )
            for r in tries
        ),
    ]


def check_reference(case: AnyCase, reference: Reference) -> bool:
    resolver = RESOLVERS.get(reference.ref_type)
    return resolver is not None and reference.ref_id in resolver.labels(case.id, [reference.ref_id])


def reference_labels(case: AnyCase, messages: Iterable[Any]) -> dict[tuple[str, int], str]:
    """One query per kind actually referenced on the page: {(type, id): "goal: ..."}. The
    messages are anything with `ref_type` and `ref_id` (the thread page's lines)."""
    wanted: dict[ReferenceType, set[int]] = {}
    for message in messages:
        if message.ref_type is not None and message.ref_id is not None:
            wanted.setdefault(message.ref_type, set()).add(message.ref_id)
    labels: dict[tuple[str, int], str] = {}
    for ref_type, ids in wanted.items():
        for ref_id, label in RESOLVERS[ref_type].labels(case.id, ids).items():
            labels[(ref_type.value, ref_id)] = label
    return labels
