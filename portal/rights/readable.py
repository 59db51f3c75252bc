"""The printable copy of a child's record (CO-02) as a document a parent can read.

The JSON download keeps the machine form (portal/rights/export.py). This turns the same rows into
parts with headings, columns with words for headers, people's names instead of ids, dates in the
reader's language and time zone, yes/no in words, and no internal ids, keys or hashes. A column
that only links rows together is replaced by what it points at ("Goal": the goal's words).
Columns not listed here stay in the JSON only.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import get_template_attribute
from flask_babel import LazyString
from sqlalchemy import select

from portal import db
from portal.consent_documents import CONSENT_DOCUMENTS
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.i18n import local_date, local_datetime
from portal.labels import WORDS, kin, named_kin
from portal.ladders.scales import tenths
from portal.models import (
    AssentChoice,
    CaseStatus,
    Completion,
    ConsentAction,
    ConsentKind,
    DataRequestStatus,
    GoalOwner,
    Informant,
    PlanStatus,
    ProblemDomain,
    ProblemStatus,
    ResponseKind,
    SessionMode,
    SessionStatus,
    StepStatus,
    SuggestionStatus,
    ThreadKind,
    User,
)
from portal.models.cases import shown_first_name

Row = dict[str, Any]


class Lookups:
    """What the ids of one record point at, from the record itself (and one query for names)."""

    def __init__(self, sections: dict[str, dict[str, Any]], names: dict[int, str]) -> None:
        def by_id(table: str, key: str) -> dict[Any, Any]:
            return {row["id"]: row[key] for row in sections.get(table, {}).get("rows", [])}

        self.names = names
        self.problems = by_id("problems", "child_words")
        self.goals = by_id("goals", "child_text")
        goals = sections.get("goals", {}).get("rows", [])
        self.goals_by_lineage = {row["lineage_key"]: row["child_text"] for row in goals}
        self.plan_numbers = by_id("plan_versions", "number")
        self.ladders = by_id("ladders", "title")
        self.steps = by_id("ladder_steps", "title")
        self.rewards = by_id("rewards", "title")
        self.sessions = by_id("therapy_sessions", "starts_at")
        self.attempt_steps = by_id("practice_attempts", "step_id")
        self.redeemed = by_id("redemptions", "reward_id")


Show = Callable[[Any, Row, Lookups], str]


@dataclass(frozen=True)
class Column:
    key: str
    header: LazyString
    show: Show


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def text(value: Any, _row: Row, _look: Lookups) -> str:
    return "" if value is None else str(value)


def when(value: Any, _row: Row, _look: Lookups) -> str:
    return local_datetime(_moment(value))


def day(value: Any, _row: Row, _look: Lookups) -> str:
    if not value:
        return ""
    if isinstance(value, str) and "T" in value:
        return local_datetime(_moment(value), "date")
    return local_date(date.fromisoformat(value) if isinstance(value, str) else value)


def yes_no(value: Any, _row: Row, _look: Lookups) -> str:
    if value is None:
        return ""
    return _("Yes") if value else _("No")


def person(value: Any, _row: Row, look: Lookups) -> str:
    if value is None:
        return ""
    return look.names.get(value, _("Someone no longer on the team"))


def words_of(enum_type: type[enum.Enum]) -> Show:
    """A stored enum value in words: its `label`, or the word in portal/labels.py."""

    def show(value: Any, _row: Row, _look: Lookups) -> str:
        if value is None or value == "":
            return ""
        member = enum_type(value)
        own = getattr(member, "label", None)
        if isinstance(own, str):
            return own
        words = WORDS.get(f"{enum_type.__name__}.{member.value}")
        return str(words) if words is not None else str(value)

    return show


def points_to(attribute: str) -> Show:
    def show(value: Any, _row: Row, look: Lookups) -> str:
        return "" if value is None else str(getattr(look, attribute).get(value, ""))

    return show


def fear(value: Any, _row: Row, _look: Lookups) -> str:
    return "" if value is None else f"{tenths(value)}/10"


def consent(value: Any, _row: Row, _look: Lookups) -> str:
    return str(CONSENT_DOCUMENTS[ConsentKind(value)].title)


def session_day(value: Any, _row: Row, look: Lookups) -> str:
    return local_datetime(_moment(look.sessions.get(value)))


def plan_number(value: Any, _row: Row, look: Lookups) -> str:
    number = look.plan_numbers.get(value)
    return _("Version %(number)s", number=number) if number is not None else ""


def full_name(_value: Any, row: Row, _look: Lookups) -> str:
    first = shown_first_name(row["first_name"], row.get("name_removed_at") is not None)
    return f"{first} {row['last_name']}"


def kin_words(value: Any, _row: Row, _look: Lookups) -> str:
    return kin(value)


def helper(value: Any, _row: Row, _look: Lookups) -> str:
    return named_kin(value or "")


def token_reason(_value: Any, row: Row, look: Lookups) -> str:
    """Why tokens moved, from what they hang off (the stored reason is English)."""
    if row.get("attempt_id") is not None:
        step = look.steps.get(look.attempt_steps.get(row["attempt_id"]), "")
        return _("Practised “%(step)s”", step=step)
    if row.get("redemption_id") is not None:
        reward = look.rewards.get(look.redeemed.get(row["redemption_id"]), "")
        return _("Reward: %(reward)s", reward=reward)
    return ""


def audit_words(macro: str) -> Show:
    """The audit trail's machine words, through the same words as the "who viewed" page."""

    def show(value: Any, _row: Row, _look: Lookups) -> str:
        return str(get_template_attribute("audit/_labels.html", macro)(value)).strip()

    return show


def feedback_ratings(_value: Any, row: Row, _look: Lookups) -> str:
    if row.get("overall") is None:
        return ""
    return _(
        "heard %(heard)s · what matters %(matters)s · approach %(approach)s · overall %(overall)s",
        heard=row["heard"],
        matters=row["matters"],
        approach=row["approach"],
        overall=row["overall"],
    )


def fears(_value: Any, row: Row, _look: Lookups) -> str:
    return _(
        "before %(before)s · worst %(worst)s · after %(after)s",
        before=tenths(row.get("fear_before")),
        worst=tenths(row.get("fear_peak")),
        after=tenths(row.get("fear_after")),
    )


@dataclass(frozen=True)
class Part:
    title: LazyString
    sections: tuple[tuple[str, tuple[Column, ...]], ...]


def _c(key: str, header: LazyString, show: Show = text) -> Column:
    return Column(key, header, show)


PARTS: tuple[Part, ...] = (
    Part(
        _l("The child and the care team"),
        (
            (
                "children",
                (_c("first_name", _l("Name"), full_name), _c("date_of_birth", _l("Born"), day)),
            ),
            (
                "users",
                (
                    _c("username", _l("Username")),
                    _c("active", _l("Can sign in"), yes_no),
                    _c("created_at", _l("Since"), day),
                ),
            ),
            (
                "cases",
                (
                    _c("presenting_concern", _l("What brought you to us")),
                    _c("status", _l("Status"), words_of(CaseStatus)),
                    _c("opened_at", _l("Opened"), day),
                    _c("opened_by_id", _l("Opened by"), person),
                ),
            ),
            (
                "guardian_links",
                (
                    _c("relationship_label", _l("Relationship"), kin_words),
                    _c("household", _l("Household"), kin_words),
                    _c("has_legal_authority", _l("Legal authority"), yes_no),
                    _c("can_consent", _l("Can give consent"), yes_no),
                    _c("valid_from", _l("Since"), day),
                    _c("valid_to", _l("Until"), day),
                ),
            ),
            (
                "case_therapists",
                (
                    _c("therapist_id", _l("Therapist"), person),
                    _c("is_primary", _l("Primary therapist"), yes_no),
                    _c("added_at", _l("Since"), day),
                    _c("ended_at", _l("Until"), day),
                ),
            ),
            (
                "consent_records",
                (
                    _c("kind", _l("Consent"), consent),
                    _c("action", _l("Choice"), words_of(ConsentAction)),
                    _c("given_by_id", _l("Given by"), person),
                    _c("recorded_at", _l("When"), when),
                ),
            ),
        ),
    ),
    Part(
        _l("Treatment plan"),
        (
            (
                "problems",
                (
                    _c("child_words", _l("In the child's words")),
                    _c("clinical_words", _l("In clinical words")),
                    _c("domain", _l("Area"), words_of(ProblemDomain)),
                    _c("status", _l("Status"), words_of(ProblemStatus)),
                ),
            ),
            (
                "problem_severities",
                (
                    _c("problem_id", _l("Problem"), points_to("problems")),
                    _c("informant", _l("Rated by"), words_of(Informant)),
                    _c("severity", _l("Rating (0–10)")),
                    _c("recorded_at", _l("When"), day),
                ),
            ),
            (
                "plan_versions",
                (
                    _c("id", _l("Version"), plan_number),
                    _c("status", _l("Status"), words_of(PlanStatus)),
                    _c("change_summary", _l("What changed")),
                    _c("activated_at", _l("In use since"), day),
                    _c("review_due_on", _l("Review due"), day),
                ),
            ),
            (
                "goals",
                (
                    _c("plan_version_id", _l("Version"), plan_number),
                    _c("child_text", _l("In the child's words")),
                    _c("clinical_text", _l("In clinical words")),
                    _c("owner", _l("Whose goal"), words_of(GoalOwner)),
                ),
            ),
            (
                "goal_problems",
                (
                    _c("goal_id", _l("Goal"), points_to("goals")),
                    _c("problem_id", _l("Problem"), points_to("problems")),
                ),
            ),
            (
                "benchmarks",
                (
                    _c("goal_id", _l("Goal"), points_to("goals")),
                    _c("measure", _l("How we will know")),
                    _c("target", _l("Target")),
                    _c("due_on", _l("By"), day),
                ),
            ),
            (
                "interventions",
                (
                    _c("plan_version_id", _l("Version"), plan_number),
                    _c("what", _l("What")),
                    _c("who", _l("Who")),
                    _c("how_often", _l("How often")),
                ),
            ),
            (
                "plan_responses",
                (
                    _c("plan_version_id", _l("Version"), plan_number),
                    _c("responder_id", _l("Who"), person),
                    _c("kind", _l("Answer"), words_of(ResponseKind)),
                    _c("assent", _l("Child's answer"), words_of(AssentChoice)),
                    _c("comment", _l("Comment")),
                    _c("created_at", _l("When"), when),
                ),
            ),
            (
                "goal_progress",
                (
                    _c("lineage_key", _l("Goal"), points_to("goals_by_lineage")),
                    _c("rater_role", _l("Rated by"), words_of(Informant)),
                    _c("value", _l("Progress (0–10)")),
                    _c("rated_at", _l("When"), day),
                ),
            ),
        ),
    ),
    Part(
        _l("Sessions and check-ins"),
        (
            (
                "therapy_sessions",
                (
                    _c("starts_at", _l("When"), when),
                    _c("mode", _l("How"), words_of(SessionMode)),
                    _c("status", _l("What happened"), words_of(SessionStatus)),
                    _c("attendees", _l("Who came")),
                ),
            ),
            (
                "session_feedback",
                (
                    _c("session_id", _l("Session"), session_day),
                    _c("overall", _l("Your ratings (0–10)"), feedback_ratings),
                    _c("comment", _l("Comment")),
                    _c("answer", _l("The therapist's answer")),
                ),
            ),
            (
                "weekly_checkins",
                (
                    _c("week_start", _l("Week of"), day),
                    _c("practice_days", _l("Practice days")),
                    _c("difficulty", _l("How hard (0–10)")),
                    _c("accommodations", _l("Accommodations")),
                    _c("observation", _l("Observation")),
                ),
            ),
        ),
    ),
    Part(
        _l("Brave practice and rewards"),
        (
            (
                "ladders",
                (
                    _c("title", _l("Ladder")),
                    _c("weekly_target", _l("Practice goal per week")),
                    _c("created_at", _l("Since"), day),
                    _c("retired_at", _l("Retired"), day),
                ),
            ),
            (
                "ladder_steps",
                (
                    _c("ladder_id", _l("Ladder"), points_to("ladders")),
                    _c("position", _l("Step")),
                    _c("title", _l("Title")),
                    _c("fear_score", _l("Fear"), fear),
                    _c("status", _l("Status"), words_of(StepStatus)),
                ),
            ),
            (
                "step_ratings",
                (
                    _c("step_id", _l("Step"), points_to("steps")),
                    _c("fear_score", _l("Fear"), fear),
                    _c("rated_at", _l("When"), day),
                ),
            ),
            (
                "practice_attempts",
                (
                    _c("practiced_at", _l("When"), when),
                    _c("step_id", _l("Step"), points_to("steps")),
                    _c("fear_peak", _l("Fear (out of 10)"), fears),
                    _c("completion", _l("How it went"), words_of(Completion)),
                    _c("coach", _l("Who helped"), helper),
                    _c("note", _l("Note")),
                ),
            ),
            (
                "cheers",
                (
                    _c("sticker", _l("Sticker")),
                    _c("message", _l("Message")),
                    _c("sent_by_id", _l("From"), person),
                    _c("created_at", _l("When"), day),
                ),
            ),
            (
                "step_suggestions",
                (
                    _c("title", _l("Idea")),
                    _c("suggested_by_id", _l("From"), person),
                    _c("status", _l("Status"), words_of(SuggestionStatus)),
                    _c("created_at", _l("When"), day),
                ),
            ),
            (
                "rewards",
                (
                    _c("title", _l("Reward")),
                    _c("cost", _l("Tokens")),
                    _c("approved_at", _l("Approved"), day),
                ),
            ),
            (
                "redemptions",
                (
                    _c("reward_id", _l("Reward"), points_to("rewards")),
                    _c("cost", _l("Tokens")),
                    _c("requested_at", _l("Asked for"), day),
                    _c("confirmed_at", _l("Confirmed"), day),
                ),
            ),
            (
                "token_entries",
                (
                    _c("created_at", _l("When"), day),
                    _c("amount", _l("Tokens")),
                    _c("reason", _l("Why"), token_reason),
                ),
            ),
        ),
    ),
    Part(
        _l("Messages"),
        (
            (
                "message_threads",
                (
                    _c("kind", _l("Thread"), words_of(ThreadKind)),
                    _c("created_at", _l("Since"), day),
                    _c("last_message_at", _l("Last message"), when),
                ),
            ),
            (
                "messages",
                (
                    _c("created_at", _l("When"), when),
                    _c("author_id", _l("From"), person),
                    _c("body", _l("Message")),
                ),
            ),
        ),
    ),
    Part(
        _l("Requests and who looked at the record"),
        (
            (
                "data_requests",
                (
                    _c("requested_at", _l("Asked for"), day),
                    _c("requested_by_id", _l("By"), person),
                    _c("status", _l("Status"), words_of(DataRequestStatus)),
                    _c("completed_at", _l("Completed"), day),
                ),
            ),
            (
                "audit_log",
                (
                    _c("created_at", _l("When"), when),
                    _c("actor_id", _l("Who"), person),
                    _c("object_type", _l("What"), audit_words("what")),
                    _c("action", _l("Did"), audit_words("did")),
                ),
            ),
        ),
    ),
)


def _names(sections: dict[str, dict[str, Any]]) -> dict[int, str]:
    """One query for the names of everyone the record mentions."""
    ids = {
        row[column.key]
        for part in PARTS
        for table, columns in part.sections
        for column in columns
        if column.show is person
        for row in sections.get(table, {}).get("rows", [])
        if row.get(column.key) is not None
    }
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


def readable(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The parts of the printable copy: [{title, sections: [{title, headers, rows}]}]."""
    sections = document["sections"]
    look = Lookups(sections, _names(sections))
    parts = []
    for part in PARTS:
        shown = []
        for table, columns in part.sections:
            section = sections[table]
            shown.append(
                {
                    "key": table,
                    "title": section["title"],
                    "headers": [str(column.header) for column in columns],
                    # Words people typed stay as written (the page marks them).
                    "typed": [column.show is text for column in columns],
                    "rows": [
                        [column.show(row.get(column.key), row, look) for column in columns]
                        for row in section["rows"]
                    ],
                }
            )
        parts.append({"title": str(part.title), "sections": shown})
    return parts
