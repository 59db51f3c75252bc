"""Right of access (CO-02): everything the portal holds about a child, as a guardian may see it.

Every table is classified here, once: either it is exported (with the rows and columns a guardian
may see, DESIGN §7 "minimum necessary") or it is left out with a reason. A test fails when a table
is added without a classification, so a new feature cannot silently escape the export.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, or_, select

from portal import db
from portal.db import Base
from portal.i18n import lazy_gettext as _l
from portal.messages.queries import visible_thread_ids
from portal.models import Case, PlanStatus, User

# Columns that are secrets or plumbing, never part of anybody's record.
HIDDEN_COLUMNS = frozenset(
    {
        "password_hash",
        "token_hash",
        "idempotency_key",
        "dedupe_key",
        "totp_secret",
        "totp_last_step",
        "code_hash",
        # The audit trail's chain and other people's network addresses.
        "sealed_seq",
        "prev_hash",
        "row_hash",
        "request_id",
        "source_ip",
    }
)


@dataclass(frozen=True)
class Scope:
    case: Case
    guardian: User

    @property
    def case_id(self) -> int:
        return self.case.id


Where = Callable[[Table, Scope], ColumnElement[bool]]


@dataclass(frozen=True)
class Section:
    table: str
    title: Any  # a lazy translation
    where: Where
    blank: Callable[[dict[str, Any]], dict[str, Any]] | None = None


def _t(name: str) -> Table:
    return Base.metadata.tables[name]


def _of_case(table: Table, scope: Scope) -> ColumnElement[bool]:
    return table.c.case_id == scope.case_id


def _ids(table: str, scope: Scope, narrow: Where | None = None) -> Select[Any]:
    parent = _t(table)
    condition = _of_case(parent, scope)
    if narrow is not None:
        condition = and_(condition, narrow(parent, scope))
    return select(parent.c.id).where(condition)


def _shared_plan(table: Table, _scope: Scope) -> ColumnElement[bool]:
    # A draft is the therapist's work in progress; families see proposed and later versions.
    return table.c.status != PlanStatus.DRAFT.value


def _plan_child(table: Table, scope: Scope) -> ColumnElement[bool]:
    return table.c.plan_version_id.in_(_ids("plan_versions", scope, _shared_plan))


def _own_or_child(column: str) -> Where:
    def where(table: Table, scope: Scope) -> ColumnElement[bool]:
        own = table.c[column] == scope.guardian.id
        child_user = scope.case.child.user_id
        return (
            or_(own, table.c[column].is_(None))
            if child_user is None
            else or_(own, table.c[column] == child_user, table.c[column].is_(None))
        )

    return where


def _private_note(row: dict[str, Any]) -> dict[str, Any]:
    if row.get("note_private"):
        row["note"] = str(_l("(kept private by your child)"))
    return row


SECTIONS: tuple[Section, ...] = (
    Section("children", _l("Child"), lambda t, s: t.c.id == s.case.child_id),
    Section("users", _l("Child's sign-in"), lambda t, s: t.c.id == s.case.child.user_id),
    Section("cases", _l("Case"), lambda t, s: t.c.id == s.case_id),
    Section(
        "guardian_links",
        _l("Your link to the child"),
        lambda t, s: and_(_of_case(t, s), t.c.guardian_id == s.guardian.id),
    ),
    Section("case_therapists", _l("Therapists"), _of_case),
    Section("consent_records", _l("Consent records"), _of_case),
    Section("problems", _l("Problem list"), _of_case),
    Section(
        "problem_severities",
        _l("Problem ratings"),
        lambda t, s: t.c.problem_id.in_(_ids("problems", s)),
    ),
    Section(
        "plan_versions",
        _l("Treatment plan versions"),
        lambda t, s: and_(_of_case(t, s), _shared_plan(t, s)),
    ),
    Section("goals", _l("Goals"), _plan_child),
    Section(
        "goal_problems",
        _l("Goal ↔ problem links"),
        lambda t, s: t.c.goal_id.in_(select(_t("goals").c.id).where(_plan_child(_t("goals"), s))),
    ),
    Section(
        "benchmarks",
        _l("Benchmarks"),
        lambda t, s: t.c.goal_id.in_(select(_t("goals").c.id).where(_plan_child(_t("goals"), s))),
    ),
    Section("interventions", _l("Who does what"), _plan_child),
    Section(
        "plan_responses",
        _l("Plan acceptance and assent (yours and your child's)"),
        lambda t, s: and_(_plan_child(t, s), _own_or_child("responder_id")(t, s)),
    ),
    Section("goal_progress", _l("Goal progress ratings"), _of_case),
    Section("therapy_sessions", _l("Sessions"), _of_case),
    Section(
        "session_attendance",
        _l("Who came to each session"),
        lambda t, s: t.c.session_id.in_(_ids("therapy_sessions", s)),
    ),
    Section(
        "session_feedback",
        _l("Your session feedback"),
        lambda t, s: and_(_of_case(t, s), t.c.guardian_id == s.guardian.id),
    ),
    Section(
        "weekly_checkins",
        _l("Your weekly check-ins"),
        lambda t, s: and_(_of_case(t, s), t.c.guardian_id == s.guardian.id),
    ),
    Section(
        "family_notes",
        _l("Your “How is it going?” notes and the answers"),
        lambda t, s: and_(_of_case(t, s), t.c.guardian_id == s.guardian.id),
    ),
    Section("ladders", _l("Fear ladders"), _of_case),
    Section("ladder_steps", _l("Ladder steps"), lambda t, s: t.c.ladder_id.in_(_ids("ladders", s))),
    Section(
        "step_ratings",
        _l("Step fear ratings"),
        lambda t, s: t.c.step_id.in_(
            select(_t("ladder_steps").c.id).where(
                _t("ladder_steps").c.ladder_id.in_(_ids("ladders", s))
            )
        ),
    ),
    Section("practice_attempts", _l("Practice"), _of_case, blank=_private_note),
    Section("cheers", _l("Cheers"), _of_case),
    Section("step_suggestions", _l("Step ideas"), _of_case),
    Section("rewards", _l("Rewards"), _of_case),
    Section("redemptions", _l("Rewards redeemed"), _of_case),
    Section("token_entries", _l("Tokens"), _of_case),
    Section(
        "message_threads",
        _l("Message threads you are in"),
        lambda t, s: and_(_of_case(t, s), t.c.id.in_(visible_thread_ids(s.guardian))),
    ),
    Section(
        "messages",
        _l("Messages in your threads"),
        lambda t, s: t.c.thread_id.in_(
            select(_t("message_threads").c.id).where(
                _of_case(_t("message_threads"), s),
                _t("message_threads").c.id.in_(visible_thread_ids(s.guardian)),
            )
        ),
    ),
    Section("data_requests", _l("Deletion requests"), _of_case),
    Section(
        "audit_log",
        _l("Who viewed or changed the record"),
        lambda t, s: t.c.child_id == s.case.child_id,
    ),
)

# Tables that are not exported, and why (minimum necessary, DESIGN §7; or not about the child).
NOT_EXPORTED: dict[str, Any] = {
    "clinics": _l("the clinic's own details, not about the child"),
    "account_tokens": _l("sign-in links of staff; secrets"),
    "recovery_codes": _l("second-factor recovery codes of staff; secrets"),
    "auth_sessions": _l("sign-in sessions: security plumbing, no record of the child's care"),
    "invitations": _l("other adults' invitation emails and secrets"),
    "outbox_emails": _l("delivery copies of notifications, which never carry clinical content"),
    "care_alerts": _l("the therapist's working alerts, which quote other guardians' feedback"),
    "case_tasks": _l("the therapist's to-do list"),
    "session_agendas": _l("the therapist's private agenda for the next session"),
    "thread_reads": _l("read receipts: delivery plumbing"),
    "message_notifications": _l("delivery plumbing"),
    "service_policies": _l("therapists' office hours, not about the child"),
    "retention_purges": _l("empty outside a retention purge; holds only a case number"),
    "calendar_feeds": _l("your private calendar link: a secret, not about the child"),
    "audit_spool_marks": _l("the audit trail's bookkeeping: file names and sizes"),
    # Running totals the database keeps from the practice and token rows (issue 17).
    "case_tallies": _l("totals worked out from the practice and tokens, which are included"),
    "step_days": _l("totals worked out from the practice and tokens, which are included"),
}


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def collect(case: Case, guardian: User) -> dict[str, dict[str, Any]]:
    """Every exported section: {table: {"title": …, "columns": [...], "rows": [{...}]}}."""
    scope = Scope(case, guardian)
    data: dict[str, dict[str, Any]] = {}
    for section in SECTIONS:
        table = _t(section.table)
        columns = [c for c in table.columns if c.name not in HIDDEN_COLUMNS]
        statement = select(*columns).where(section.where(table, scope))
        statement = statement.order_by(*[c for c in table.primary_key.columns])
        rows = []
        for record in db.session.execute(statement).mappings():
            row = {key: _plain(value) for key, value in record.items()}
            rows.append(section.blank(row) if section.blank else row)
        data[section.table] = {
            "title": str(section.title),
            "columns": [c.name for c in columns],
            "rows": rows,
        }
    return data


def document(case: Case, guardian: User, generated_at: datetime) -> dict[str, Any]:
    return {
        "format": "rapport-child-record/1",
        "generated_at": generated_at.isoformat(),
        "generated_for": guardian.display_name,
        "child": case.child.full_name,
        "not_included": {table: str(reason) for table, reason in NOT_EXPORTED.items()},
        "sections": collect(case, guardian),
    }
