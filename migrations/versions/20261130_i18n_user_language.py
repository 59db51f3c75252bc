"""users.language: each person's own language (None follows the browser)

Revision ID: 7a1e18c0de55
Revises: 3fc683726733
Create Date: 2026-11-30 11:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7a1e18c0de55"
down_revision = "7c0e5a2d9b41"  # re-chained after main (audit -> auth -> rights) on branch a11y
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
