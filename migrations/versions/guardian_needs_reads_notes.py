"""guardian: recorded reads, edit marks, "How is it going?" notes, seen step decisions, consent task

- session_feedback.read_at / read_by_id: "Read by …" only from a recorded read;
- session_feedback.edited_at, weekly_checkins.edited_at: an answered form edited within its window;
- step_suggestions.decision_seen_at: the suggester saw the therapist's decision;
- family_notes: a guardian's "How is it going?" note, read, answered and resolved by the therapist;
- case_tasks.kind gains 'consent_withdrawn' (the caseload task when a family withdraws consent).

Revision ID: 20261204guardian
Revises: 7a1e18c0de55
Create Date: 2026-12-04 20:00:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "20261204guardian"
down_revision = '5ea1ed0c4a17'  # re-chained at merge: kids -> perf -> guardian
branch_labels = None
depends_on = None

_OLD_TASK_KINDS = (
    "plan_changes_requested",
    "plan_comment",
    "child_not_ready",
    "review_requested",
    "priority_suggestion",
)
_NEW_TASK_KINDS = (*_OLD_TASK_KINDS, "consent_withdrawn")


def _task_kind(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="taskkind", native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table("session_feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("read_at", portal.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("read_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("edited_at", portal.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_session_feedback_read_by_id_users"), "users", ["read_by_id"], ["id"]
        )
    with op.batch_alter_table("weekly_checkins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edited_at", portal.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("step_suggestions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("decision_seen_at", portal.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("case_tasks", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=_task_kind(_OLD_TASK_KINDS),
            type_=_task_kind(_NEW_TASK_KINDS),
            existing_nullable=False,
        )
    op.create_table(
        "family_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("guardian_id", sa.Integer(), nullable=False),
        sa.Column(
            "mood",
            sa.Enum(
                "good", "mixed", "hard", name="notemood", native_enum=False,
                create_constraint=True, length=16,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=36), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("read_by_id", sa.Integer(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_family_notes_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["guardian_id"], ["users.id"], name=op.f("fk_family_notes_guardian_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["read_by_id"], ["users.id"], name=op.f("fk_family_notes_read_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["users.id"], name=op.f("fk_family_notes_answered_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["users.id"], name=op.f("fk_family_notes_resolved_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_notes")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_family_notes_idempotency_key")),
    )
    with op.batch_alter_table("family_notes", schema=None) as batch_op:
        batch_op.create_index("ix_family_notes_case_created", ["case_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("family_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_family_notes_case_created")
    op.drop_table("family_notes")
    op.execute("DELETE FROM case_tasks WHERE kind = 'consent_withdrawn'")
    with op.batch_alter_table("case_tasks", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=_task_kind(_NEW_TASK_KINDS),
            type_=_task_kind(_OLD_TASK_KINDS),
            existing_nullable=False,
        )
    with op.batch_alter_table("step_suggestions", schema=None) as batch_op:
        batch_op.drop_column("decision_seen_at")
    with op.batch_alter_table("weekly_checkins", schema=None) as batch_op:
        batch_op.drop_column("edited_at")
    with op.batch_alter_table("session_feedback", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_session_feedback_read_by_id_users"), type_="foreignkey")
        batch_op.drop_column("edited_at")
        batch_op.drop_column("read_by_id")
        batch_op.drop_column("read_at")
