"""session_attendance: who of the care team attended a session, and how; session_agendas: the
therapist's private agenda for the next session

Revision ID: c1a5e0a77e4d
Revises: 7a1e18c0de55
Create Date: 2026-12-04 19:55:00

Sessions recorded before this have no attendance rows: nobody is asked about them (the feedback
window is two weeks, so this touches only the most recent sessions of an upgraded database).
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "c1a5e0a77e4d"
down_revision = "family0413e1"  # re-chained at merge: kids -> perf -> guardian -> family -> clinic
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("attendee_key", sa.String(length=40), nullable=False),
        sa.Column("guardian_id", sa.Integer(), nullable=True),
        sa.Column(
            "mode",
            sa.Enum(
                "in_person",
                "video",
                name="sessionmode",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(guardian_id IS NULL) = (attendee_key LIKE 'child:%')",
            name=op.f("ck_session_attendance_guardian_or_child"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["therapy_sessions.id"],
            name=op.f("fk_session_attendance_session_id_therapy_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["guardian_id"], ["users.id"], name=op.f("fk_session_attendance_guardian_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_session_attendance_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_attendance")),
        sa.UniqueConstraint(
            "session_id",
            "attendee_key",
            name=op.f("uq_session_attendance_session_id_attendee_key"),
        ),
    )
    with op.batch_alter_table("session_attendance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_session_attendance_session_id"), ["session_id"], unique=False
        )
    op.create_table(
        "session_agendas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_session_agendas_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_session_agendas_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_agendas")),
        sa.UniqueConstraint("case_id", name=op.f("uq_session_agendas_case_id")),
    )


def downgrade() -> None:
    op.drop_table("session_agendas")
    with op.batch_alter_table("session_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_attendance_session_id"))
    op.drop_table("session_attendance")
