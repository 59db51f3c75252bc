"""token totals answered from an index (issue 17)

The child's token jar (earned minus spent) and the tokens earned are sums over the case's ledger:
`(case_id, kind, amount)` holds every column those sums read, so the database adds them up in the
index alone (an index-only scan on PostgreSQL, a covering index on SQLite) instead of visiting
every ledger row.

Revision ID: 9b3f2c7d1e60
Revises: c1a5e0a77e50
Create Date: 2026-12-04 23:15:00
"""

from alembic import op

revision = "9b3f2c7d1e60"
down_revision = "c1a5e0a77e50"  # re-chained at merge: words -> clinic -> perf
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_token_entries_case_amount",
        "token_entries",
        ["case_id", "kind", "amount"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_token_entries_case_amount", table_name="token_entries")
