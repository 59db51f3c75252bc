"""Issue 13: account_tokens.address (the sign-in address an email-change link confirms or keeps),
calendar_feeds (a person's private, revocable calendar link), and each person's reminder choices

Revision ID: family0413e1
Revises: c4d5a1e0b15a
Create Date: 2026-12-04 20:20:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "family0413e1"
down_revision = "20261204guardian"  # re-chained at merge: kids -> perf -> guardian -> family
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=254), nullable=True))
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calendar_feeds_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    op.create_index(op.f("ix_calendar_feeds_user_id"), "calendar_feeds", ["user_id"])
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminders", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("practice_reminder_hour", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("practice_reminder_hour")
        batch_op.drop_column("reminders")
    op.drop_index(op.f("ix_calendar_feeds_user_id"), table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.drop_column("address")
