"""audit log: append-only, hash-chained (LG-01..LG-07)

The table refuses UPDATE and DELETE in the database itself: SQLite triggers RAISE(ABORT), and on
PostgreSQL a trigger raises too (also on TRUNCATE). In production, give the application's role
only what it needs on this table, so not even a changed trigger lets it rewrite history:

    REVOKE ALL ON audit_log FROM rapport;
    GRANT INSERT, SELECT ON audit_log TO rapport;
    GRANT USAGE ON SEQUENCE audit_log_id_seq TO rapport;

(the migrations then run as the table's owner, a separate role).

Revision ID: a7d1e0c4b9f2
Revises: 3fc683726733
Create Date: 2026-11-30 11:55:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db


revision = 'a7d1e0c4b9f2'
down_revision = '3fc683726733'
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
)

POSTGRES_TRIGGERS = (
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$""",
    """CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
       FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
)


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=True),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('request_id', sa.String(length=32), nullable=True),
    sa.Column('source_ip', sa.String(length=45), nullable=True),
    sa.Column('detail', sa.String(length=200), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('row_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint("outcome IN ('success', 'denied', 'failure', 'not_found')", name=op.f('ck_audit_log_known_outcome')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('row_hash', name=op.f('uq_audit_log_row_hash'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_audit_log_child_time', ['child_id', 'created_at'], unique=False)
        batch_op.create_index('ix_audit_log_actor_time', ['actor_id', 'created_at'], unique=False)

    statements = SQLITE_TRIGGERS if op.get_context().dialect.name == 'sqlite' else POSTGRES_TRIGGERS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_update')
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_delete')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_actor_time')
        batch_op.drop_index('ix_audit_log_child_time')
        batch_op.drop_index(batch_op.f('ix_audit_log_created_at'))

    op.drop_table('audit_log')
    if op.get_context().dialect.name != 'sqlite':
        op.execute('DROP FUNCTION IF EXISTS audit_log_append_only()')
