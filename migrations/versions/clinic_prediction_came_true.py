"""practice_attempts.prediction_came_true: whether the feared outcome of a practice entry's
prediction happened, as the therapist judged it (None: not said yet)

Revision ID: c1a5e0a77e50
Revises: 5d0e7a1b9c42
Create Date: 2026-12-04 23:00:00

Entries recorded before this are not judged; nothing is guessed from their texts.
"""

import sqlalchemy as sa
from alembic import op

revision = "c1a5e0a77e50"
down_revision = "5d0e7a1b9c42"  # after words (merged into main first)
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("practice_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prediction_came_true", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("practice_attempts", schema=None) as batch_op:
        batch_op.drop_column("prediction_came_true")
