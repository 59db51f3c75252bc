"""audit spool marks: how far the sealer has moved each spool file of read rows (issue 17)

On SQLite a page view's audit row is appended to a spool file beside the database instead of
being written in a transaction of its own, and the sealer moves the spooled rows into
`audit_log` (portal/audit_spool.py). This table keeps, per file, how many bytes have been moved,
in the same transaction as the rows, so a line is never moved twice. Made on PostgreSQL too (one
schema for both), where it stays empty.

Revision ID: a4f8d2c61b07
Revises: e7c1a4b2d9f3
Create Date: 2026-12-05 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a4f8d2c61b07"
down_revision = "e7c1a4b2d9f3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_spool_marks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("done", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_audit_spool_marks")),
    )


def downgrade() -> None:
    op.drop_table("audit_spool_marks")
