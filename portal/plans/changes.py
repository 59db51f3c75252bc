""" "What changed" between two plan versions, in sentences a parent understands (not a raw diff)."""

from __future__ import annotations

from dataclasses import dataclass

from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.i18n import local_date
from portal.models.plans import Goal, PlanVersion
from portal.plans.queries import GoalText, VersionText

# A version as the plan editor holds it (objects) or as "what changed" reads it (words).
Version = PlanVersion | VersionText
VersionGoal = Goal | GoalText

OWNER_WORDS = {
    "child": _l("your child"),
    "guardian": _l("the family"),
    "shared": _l("everyone together"),
}


@dataclass(frozen=True)
class Change:
    kind: str  # "added", "removed", "changed"
    headline: str
    before: str = ""
    after: str = ""

    @property
    def label(self) -> str:
        return {"added": _("New"), "removed": _("Removed"), "changed": _("Changed")}[self.kind]


def _benchmark_words(goal: VersionGoal) -> dict[str, str]:
    return {
        b.measure: _(
            "%(measure)s: %(target)s by %(day)s",
            measure=b.measure,
            target=b.target,
            day=local_date(b.due_on),
        )
        for b in goal.benchmarks
    }


def _goal_changes(old: VersionGoal, new: VersionGoal) -> list[Change]:
    name = new.child_text
    changes = []
    if old.child_text != new.child_text:
        changes.append(
            Change("changed", _("A goal is worded differently"), old.child_text, new.child_text)
        )
    if old.clinical_text != new.clinical_text:
        changes.append(
            Change(
                "changed",
                _("The therapist's description of “%(name)s” changed", name=name),
                old.clinical_text,
                new.clinical_text,
            )
        )
    if old.owner != new.owner:
        changes.append(
            Change(
                "changed",
                _("Who leads “%(name)s” changed", name=name),
                OWNER_WORDS[old.owner.value],
                OWNER_WORDS[new.owner.value],
            )
        )
    old_marks, new_marks = _benchmark_words(old), _benchmark_words(new)
    for measure, words in new_marks.items():
        if measure not in old_marks:
            changes.append(
                Change(
                    "added", _("A new way to see progress on “%(name)s”", name=name), after=words
                )
            )
        elif old_marks[measure] != words:
            changes.append(
                Change(
                    "changed",
                    _("A target for “%(name)s” changed", name=name),
                    old_marks[measure],
                    words,
                )
            )
    for measure, words in old_marks.items():
        if measure not in new_marks:
            changes.append(
                Change(
                    "removed",
                    _("A way to see progress on “%(name)s” was dropped", name=name),
                    before=words,
                )
            )
    return changes


def describe_changes(old: Version | None, new: Version) -> list[Change]:
    """Everything a family should notice moving from `old` (the active plan) to `new`."""
    if old is None:
        return [Change("added", _("A first plan"), after=new.change_summary)]
    changes: list[Change] = []
    old_goals = {g.lineage_key: g for g in old.goals}
    new_goals = {g.lineage_key: g for g in new.goals}
    for key, goal in new_goals.items():
        if key not in old_goals:
            changes.append(Change("added", _("A new goal"), after=goal.child_text))
        else:
            changes.extend(_goal_changes(old_goals[key], goal))
    for key, goal in old_goals.items():
        if key not in new_goals:
            changes.append(Change("removed", _("A goal was taken out"), before=goal.child_text))
    old_items = {i.what: i for i in old.interventions}
    new_items = {i.what: i for i in new.interventions}
    for what, item in new_items.items():
        words = f"{item.what} — {item.who}, {item.how_often}"
        if what not in old_items:
            changes.append(Change("added", _("Something new to do"), after=words))
        else:
            before = old_items[what]
            old_words = f"{before.what} — {before.who}, {before.how_often}"
            if old_words != words:
                changes.append(
                    Change("changed", _("Who does what, or how often"), old_words, words)
                )
    for what, item in old_items.items():
        if what not in new_items:
            changes.append(
                Change("removed", _("Something we stop doing"), before=f"{item.what} — {item.who}")
            )
    if old.review_interval_days != new.review_interval_days:
        changes.append(
            Change(
                "changed",
                _("How often we review the plan together"),
                _("every %(days)s days", days=old.review_interval_days),
                _("every %(days)s days", days=new.review_interval_days),
            )
        )
    return changes
