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

from sqlalchemy import Select, bindparam, select

from portal import db
from portal.i18n import gettext as _
from portal.i18n import moments
from portal.models import Case, ReferenceType
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
    # (case id, limit) → [(id, label)] the compose form offers
    options: Callable[[int], list[tuple[int, str]]]
    # (case id, ids) → {id: label} for the ids that really belong to the case
    labels: Callable[[int, Iterable[int]], dict[int, str]]


def _goal_options(case_id: int) -> list[tuple[int, str]]:
    rows = db.session.execute(_goal_options_statement(), {"case_id": case_id})
    return [(goal_id, _("goal: %(goal)s", goal=text)) for goal_id, text in rows]


def _goal_labels(case_id: int, ids: Iterable[int]) -> dict[int, str]:
    rows = db.session.execute(_goal_labels_statement(), {"case_id": case_id, "ids": list(ids)})
    return {goal_id: _("goal: %(goal)s", goal=text) for goal_id, text in rows}


def _step_options(case_id: int) -> list[tuple[int, str]]:
    rows = db.session.execute(_step_options_statement(), {"case_id": case_id})
    return [
        (step_id, _("step %(position)s: %(step)s", position=position, step=title))
        for step_id, position, title in rows
    ]


def _step_labels(case_id: int, ids: Iterable[int]) -> dict[int, str]:
    rows = db.session.execute(_step_labels_statement(), {"case_id": case_id, "ids": list(ids)})
    return {
        step_id: _("step %(position)s: %(step)s", position=position, step=title)
        for step_id, position, title in rows
    }


def _practice_options(case_id: int) -> list[tuple[int, str]]:
    return list(_practice(case_id, None).items())


def _practice_labels(case_id: int, ids: Iterable[int]) -> dict[int, str]:
    return _practice(case_id, list(ids))


def _practice(case_id: int, ids: list[int] | None) -> dict[int, str]:
    """The five newest entries (the compose form's choices), or those of `ids` (at most 50)."""
    # Step title and day only: a teen's private note never travels into a message.
    values: dict[str, object] = {"case_id": case_id}
    if ids is not None:
        values["ids"] = ids
    rows = db.session.execute(_practice_statement(ids is not None), values)
    day = moments("day")  # as local_datetime(when, "day"), the zone and language looked up once
    return {
        attempt_id: _("practice on %(day)s: %(step)s", day=day(when), step=title)
        for attempt_id, when, title in rows
    }


# Each statement is built once and reused with the case (and ids) as bound values (issue 17:
# building them anew was most of the compose form's cost).


@cache
def _goal_options_statement() -> Select[int, str]:
    return (
        select(Goal.id, Goal.child_text)
        .join(PlanVersion, Goal.plan_version_id == PlanVersion.id)
        .where(
            PlanVersion.case_id == bindparam("case_id"),
            PlanVersion.status == PlanStatus.ACTIVE,
        )
        .order_by(Goal.position)
    )


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
def _step_options_statement() -> Select[int, int, str]:
    return (
        select(LadderStep.id, LadderStep.position, LadderStep.title)
        .join(Ladder, LadderStep.ladder_id == Ladder.id)
        .where(
            Ladder.case_id == bindparam("case_id"),
            Ladder.retired_at.is_(None),
            LadderStep.retired_at.is_(None),
        )
        .order_by(Ladder.id, LadderStep.position)
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
def _practice_statement(by_ids: bool) -> Select[int, datetime, str]:
    stmt = (
        select(PracticeAttempt.id, PracticeAttempt.practiced_at, LadderStep.title)
        .join(LadderStep, PracticeAttempt.step_id == LadderStep.id)
        .where(PracticeAttempt.case_id == bindparam("case_id"))
        .order_by(PracticeAttempt.practiced_at.desc())
    )
    if by_ids:
        return stmt.where(PracticeAttempt.id.in_(bindparam("ids", expanding=True))).limit(50)
    return stmt.limit(5)


RESOLVERS: dict[ReferenceType, Resolver] = {
    ReferenceType.GOAL: Resolver(_goal_options, _goal_labels),
    ReferenceType.LADDER_STEP: Resolver(_step_options, _step_labels),
    ReferenceType.PRACTICE_ATTEMPT: Resolver(_practice_options, _practice_labels),
}


def reference_choices(case: Case) -> list[tuple[str, str]]:
    """(value, label) pairs for the compose form's "about" list, this case only."""
    choices: list[tuple[str, str]] = []
    for ref_type, resolver in RESOLVERS.items():
        for ref_id, label in resolver.options(case.id):
            choices.append((Reference(ref_type, ref_id).value, label))
    return choices


def check_reference(case: Case, reference: Reference) -> bool:
    resolver = RESOLVERS.get(reference.ref_type)
    return resolver is not None and reference.ref_id in resolver.labels(case.id, [reference.ref_id])


def reference_labels(case: Case, messages: Iterable[Any]) -> dict[tuple[str, int], str]:
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
