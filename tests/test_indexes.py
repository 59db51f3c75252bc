"""Issue 9: every scoped lookup is served by an index in the migrated database (SQLite and
PostgreSQL), so a page's queries stay fast as a clinic network's data grows.

Each entry is a lookup the scoped queries make (by case, by person, by thread ...); an index, a
unique constraint or the primary key must start with those columns."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import inspect

from portal.extensions import database

SCOPED_LOOKUPS = [
    ("auth_sessions", ("token_hash",)),  # every request: who is signed in
    ("auth_sessions", ("user_id", "ended_at")),
    ("case_therapists", ("therapist_id", "ended_at")),  # a therapist's caseload
    ("case_therapists", ("case_id",)),
    ("guardian_links", ("guardian_id", "valid_to")),  # a guardian's children
    ("guardian_links", ("case_id",)),
    ("children", ("user_id",)),  # a child's own screen
    ("cases", ("child_id",)),
    ("consent_records", ("case_id", "kind")),
    ("plan_versions", ("case_id", "number")),
    ("goals", ("plan_version_id",)),
    ("benchmarks", ("goal_id",)),
    ("interventions", ("plan_version_id",)),
    ("plan_responses", ("plan_version_id",)),
    ("problems", ("case_id",)),
    ("goal_progress", ("case_id", "lineage_key")),
    ("ladders", ("case_id",)),
    ("ladder_steps", ("ladder_id",)),
    ("practice_attempts", ("case_id", "practiced_at")),  # the practice log, newest first
    ("practice_attempts", ("step_id",)),
    ("practice_attempts", ("step_id", "fear_peak", "practiced_at")),  # calm days, index only
    ("audit_log", ("id",)),  # the sealer's unsealed rows (partial index) and the primary key
    ("token_entries", ("case_id",)),
    ("case_tallies", ("case_id",)),  # the jar's running totals (issue 17)
    ("step_days", ("step_id", "lowest_peak")),  # a step's calm days, over its days alone
    ("rewards", ("case_id",)),
    ("redemptions", ("case_id",)),
    ("cheers", ("case_id",)),
    ("cheers", ("attempt_id",)),
    ("step_suggestions", ("case_id",)),
    ("therapy_sessions", ("case_id", "starts_at")),
    ("session_feedback", ("case_id", "created_at")),
    ("weekly_checkins", ("case_id", "guardian_id")),
    ("care_alerts", ("case_id", "resolved_at")),  # open alerts on the caseload
    ("case_tasks", ("case_id", "resolved_at")),
    ("message_threads", ("case_id",)),
    ("messages", ("thread_id", "seq")),  # a window of a thread, unread counts
    ("thread_reads", ("thread_id", "user_id")),
    ("thread_reads", ("user_id",)),
    ("message_notifications", ("thread_id", "user_id")),
    ("service_policies", ("therapist_id",)),
]


@pytest.fixture(scope="module")
def leading_columns(app: Flask) -> dict[str, list[tuple[str, ...]]]:
    """For each table, the column lists its indexes, unique constraints and primary key cover."""
    inspector = inspect(database.for_app(app).engine)
    found: dict[str, list[tuple[str, ...]]] = {}
    for table in inspector.get_table_names():
        covers = [tuple(ix["column_names"]) for ix in inspector.get_indexes(table)]
        covers += [tuple(uq["column_names"]) for uq in inspector.get_unique_constraints(table)]
        covers.append(tuple(inspector.get_pk_constraint(table)["constrained_columns"]))
        found[table] = [tuple(c for c in cover if c) for cover in covers]
    return found


@pytest.mark.parametrize(
    ("table", "columns"), SCOPED_LOOKUPS, ids=[f"{t}({','.join(c)})" for t, c in SCOPED_LOOKUPS]
)
def test_every_scoped_lookup_has_an_index(
    leading_columns: dict[str, list[tuple[str, ...]]], table: str, columns: tuple[str, ...]
) -> None:
    covers = leading_columns[table]
    assert any(cover[: len(columns)] == columns for cover in covers), (
        f"no index on {table} starts with {columns}: {covers}"
    )
