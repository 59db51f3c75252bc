"""audit log sealed after commit; calm-days index (issue 17)

The audit log's rows are inserted unchained and sealed into the hash chain after commit.

A request inserts its audit row without a lock; the sealer (portal/audit.py) chains committed rows
later by filling `sealed_seq`, `prev_hash` and `row_hash`. Existing rows were chained in id order,
so they keep their hashes with `sealed_seq = id`.

The append-only triggers now allow exactly one UPDATE per row: the sealer's, from unsealed (all
three NULL) to sealed (all three set) with every other column unchanged. DELETE (and TRUNCATE on
PostgreSQL) stays refused. In production the application's role needs, besides INSERT and SELECT:

    GRANT UPDATE (sealed_seq, prev_hash, row_hash) ON audit_log TO rapport;

Downgrade chains every row again in id order (the earlier design's order), sealed or not.

Revision ID: 5ea1ed0c4a17
Revises: c4d5a1e0b15a
Create Date: 2026-12-04 19:30:00
"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op

import portal.db


revision = '5ea1ed0c4a17'
down_revision = 'c4d5a1e0b15a'
branch_labels = None
depends_on = None

CONTENT = (
    'id', 'created_at', 'actor_id', 'actor_role', 'child_id', 'action', 'object_type',
    'object_id', 'outcome', 'request_id', 'source_ip', 'detail',
)
SEAL_COLUMNS = ('sealed_seq', 'prev_hash', 'row_hash')

_UNSEALED_TO_SEALED = ' AND '.join(
    [f'OLD.{c} IS NULL' for c in SEAL_COLUMNS] + [f'NEW.{c} IS NOT NULL' for c in SEAL_COLUMNS]
)

SQLITE_TRIGGERS = (
    'CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log WHEN NOT ('
    + _UNSEALED_TO_SEALED + ' AND ' + ' AND '.join(f'NEW.{c} IS OLD.{c}' for c in CONTENT)
    + ") BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
)
OLD_SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    SQLITE_TRIGGERS[1],
)

POSTGRES_FUNCTION = (
    'CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ '
    "BEGIN IF TG_OP = 'UPDATE' AND " + _UNSEALED_TO_SEALED
    + ' AND (' + ', '.join(f'NEW.{c}' for c in CONTENT) + ') IS NOT DISTINCT FROM ('
    + ', '.join(f'OLD.{c}' for c in CONTENT) + ') THEN RETURN NEW; END IF; '
    "RAISE EXCEPTION 'audit_log is append-only'; END; $$"
)
OLD_POSTGRES_FUNCTION = """CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$"""


def _sqlite() -> bool:
    return op.get_context().dialect.name == 'sqlite'


def _guards_off() -> None:
    if _sqlite():
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_update')
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_delete')
    else:
        op.execute('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change')


def _guards_on(sqlite_triggers: tuple[str, ...], postgres_function: str) -> None:
    if _sqlite():
        for statement in sqlite_triggers:
            op.execute(statement)
    else:
        op.execute(postgres_function)
        op.execute('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change')


def upgrade() -> None:
    _guards_off()
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_seq', sa.BigInteger(), nullable=True))
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column('row_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_log_sealed_seq'), ['sealed_seq'])
    op.execute('UPDATE audit_log SET sealed_seq = id')
    op.create_index(
        'ix_audit_log_unsealed', 'audit_log', ['id'], unique=False,
        sqlite_where=sa.text('sealed_seq IS NULL'),
        postgresql_where=sa.text('sealed_seq IS NULL'),
    )
    _guards_on(SQLITE_TRIGGERS, POSTGRES_FUNCTION)
    # Calm days per ladder step are counted by the database in this index alone.
    op.create_index(
        'ix_practice_attempts_step_calm', 'practice_attempts',
        ['step_id', 'fear_peak', 'practiced_at'], unique=False,
    )


def _rechain_in_id_order() -> None:
    """The earlier design's chain: every row onto the one before it by id (its own hashing)."""
    table = sa.table(
        'audit_log',
        sa.column('id', sa.Integer()),
        sa.column('created_at', portal.db.UTCDateTime(timezone=True)),
        *(sa.column(c) for c in CONTENT[2:]),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(table).order_by(table.c.id)).all()
    prev_hash = '0' * 64
    links = []
    for row in rows:
        fields = [row.created_at.isoformat(timespec='microseconds')] + [
            getattr(row, c) for c in CONTENT[2:]
        ]
        canonical = json.dumps(fields, separators=(',', ':'), ensure_ascii=True)
        row_hash = hashlib.sha256(f'{prev_hash}\n{canonical}'.encode()).hexdigest()
        links.append({'row_id': row.id, 'p': prev_hash, 'h': row_hash})
        prev_hash = row_hash
    if links:
        # Clear first: the unique row_hash must never see two rows with the same value midway.
        bind.execute(sa.text('UPDATE audit_log SET row_hash = NULL'))
        bind.execute(
            sa.text('UPDATE audit_log SET prev_hash = :p, row_hash = :h WHERE id = :row_id'),
            links,
        )


def downgrade() -> None:
    op.drop_index('ix_practice_attempts_step_calm', table_name='practice_attempts')
    _guards_off()
    _rechain_in_id_order()
    op.drop_index('ix_audit_log_unsealed', table_name='audit_log')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_log_sealed_seq'), type_='unique')
        batch_op.alter_column('row_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column('sealed_seq')
    _guards_on(OLD_SQLITE_TRIGGERS, OLD_POSTGRES_FUNCTION)
