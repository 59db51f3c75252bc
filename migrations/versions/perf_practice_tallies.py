"""running totals of practice and tokens, kept by database triggers (issue 17)

The child's tracker and every practice logged read three totals that were counted over the child's
whole history, so they slowed down as the child practised: the case's practice entries, its token
balance, and a step's calm days. Two tables keep them as running totals instead:

- case_tallies: per case, the practice entries and the tokens earned and spent (one row read);
- step_days: per ladder step and UTC day, the lowest peak fear of that day's tries. A calm day is
  a row whose lowest peak is within the ladder's threshold, so the calm days are counted over the
  step's days (in the (step_id, lowest_peak) index: over its calm days alone), and a threshold the
  therapist changes applies to the past days at once, as it did.

Triggers keep them, in the statement that writes the row: an inserted practice entry or ledger row
is added; a deleted one (only the retention purge deletes) or a practice entry moved to another
case, step, time or peak is taken back first. Why triggers, not the app: every writer of these rows
(the practice form, a confirmed reward, the demo, the benchmark's bulk load, the test builders,
the purge, a future import) leaves the totals right without knowing of them; each addition is one
atomic `INSERT .. ON CONFLICT DO UPDATE SET n = n + ..` in the writer's own transaction, safe
under concurrent requests on SQLite and PostgreSQL; and logging a practice sends no extra
statement from Python. A day's lowest peak is recounted from that day's remaining entries of the
step only when a delete or move takes away the lowest one.

Upgrade fills both tables from the existing rows (one grouped INSERT .. SELECT each, before the
triggers exist); downgrade drops the triggers and the tables. The two covering indexes that served
the counts over the history (ix_practice_attempts_step_calm, ix_token_entries_case_amount) are no
longer read but are kept here: dropping them is a separate change (it leaves free pages in an
SQLite file, which tests/test_reliability.py's full-disk test relies on not having).

Revision ID: e7c1a4b2d9f3
Revises: 9b3f2c7d1e60
Create Date: 2026-12-05 10:30:00
"""

import sqlalchemy as sa
from alembic import op


revision = 'e7c1a4b2d9f3'
down_revision = '9b3f2c7d1e60'
branch_labels = None
depends_on = None

PRACTICE_COLUMNS = 'case_id, step_id, practiced_at, fear_peak'  # what the totals depend on


def _day(moment: str, dialect: str) -> str:
    """The UTC day of a timestamp, as calm days were always counted (SQLite keeps UTC text)."""
    if dialect == 'postgresql':
        return f"({moment} AT TIME ZONE 'UTC')::date"
    return f'date({moment})'


def _within_day(row: str, dialect: str) -> str:
    """practiced_at on `row`'s UTC day, as a range the (case_id, practiced_at) index answers."""
    if dialect == 'postgresql':
        start = f"date_trunc('day', {row}.practiced_at, 'UTC')"
        return f"practiced_at >= {start} AND practiced_at < {start} + interval '24 hours'"
    start = f'date({row}.practiced_at)'
    return f"practiced_at >= {start} AND practiced_at < date({row}.practiced_at, '+1 day')"


def _add_practice(dialect: str) -> str:
    return f"""
    INSERT INTO case_tallies (case_id, practices, tokens_earned, tokens_spent)
    VALUES (NEW.case_id, 1, 0, 0)
    ON CONFLICT (case_id) DO UPDATE SET practices = case_tallies.practices + 1;
    INSERT INTO step_days (step_id, day, lowest_peak)
    VALUES (NEW.step_id, {_day('NEW.practiced_at', dialect)}, NEW.fear_peak)
    ON CONFLICT (step_id, day) DO UPDATE SET lowest_peak = excluded.lowest_peak
    WHERE excluded.lowest_peak < step_days.lowest_peak;
    """


def _take_back_practice(dialect: str) -> str:
    # The day's other entries of the step (all of a step's entries are of its ladder's case).
    others = (
        'FROM practice_attempts WHERE case_id = OLD.case_id AND step_id = OLD.step_id'
        f' AND {_within_day("OLD", dialect)}'
    )
    that_day = f"step_id = OLD.step_id AND day = {_day('OLD.practiced_at', dialect)}"
    return f"""
    UPDATE case_tallies SET practices = practices - 1 WHERE case_id = OLD.case_id;
    DELETE FROM step_days WHERE {that_day} AND NOT EXISTS (SELECT 1 {others});
    UPDATE step_days SET lowest_peak = (SELECT min(fear_peak) {others})
    WHERE {that_day} AND lowest_peak = OLD.fear_peak;
    """


def _tokens(row: str, sign: str) -> str:
    earned = f"CASE WHEN {row}.kind = 'earned' THEN {row}.amount ELSE 0 END"
    spent = f"CASE WHEN {row}.kind = 'spent' THEN -{row}.amount ELSE 0 END"
    if sign == '+':
        return f"""
    INSERT INTO case_tallies (case_id, practices, tokens_earned, tokens_spent)
    VALUES (NEW.case_id, 0, {earned}, {spent})
    ON CONFLICT (case_id) DO UPDATE SET
        tokens_earned = case_tallies.tokens_earned + excluded.tokens_earned,
        tokens_spent = case_tallies.tokens_spent + excluded.tokens_spent;
    """
    return f"""
    UPDATE case_tallies SET tokens_earned = tokens_earned - {earned},
        tokens_spent = tokens_spent - {spent}
    WHERE case_id = OLD.case_id;
    """


def _sqlite_triggers() -> list[str]:
    triggers = (
        ('practice_attempts_tally_insert', 'INSERT', 'practice_attempts', _add_practice('sqlite')),
        (
            'practice_attempts_tally_delete', 'DELETE', 'practice_attempts',
            _take_back_practice('sqlite'),
        ),
        (
            'practice_attempts_tally_update', f'UPDATE OF {PRACTICE_COLUMNS}', 'practice_attempts',
            _take_back_practice('sqlite') + _add_practice('sqlite'),
        ),
        ('token_entries_tally_insert', 'INSERT', 'token_entries', _tokens('NEW', '+')),
        ('token_entries_tally_delete', 'DELETE', 'token_entries', _tokens('OLD', '-')),
    )
    return [
        f'CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {statements} END'
        for name, event, table, statements in triggers
    ]


def _postgres_triggers() -> list[str]:
    practice = (
        "IF TG_OP IN ('UPDATE', 'DELETE') THEN "
        + _take_back_practice('postgresql')
        + " END IF; IF TG_OP IN ('INSERT', 'UPDATE') THEN "
        + _add_practice('postgresql')
        + ' END IF;'
    )
    tokens = (
        "IF TG_OP = 'DELETE' THEN " + _tokens('OLD', '-') + ' ELSE ' + _tokens('NEW', '+')
        + ' END IF;'
    )
    return [
        'CREATE FUNCTION practice_attempts_tally() RETURNS trigger LANGUAGE plpgsql AS $$ '
        f'BEGIN {practice} RETURN NULL; END $$',
        'CREATE TRIGGER practice_attempts_tally AFTER INSERT OR DELETE OR UPDATE OF '
        f'{PRACTICE_COLUMNS} ON practice_attempts FOR EACH ROW '
        'EXECUTE FUNCTION practice_attempts_tally()',
        'CREATE FUNCTION token_entries_tally() RETURNS trigger LANGUAGE plpgsql AS $$ '
        f'BEGIN {tokens} RETURN NULL; END $$',
        'CREATE TRIGGER token_entries_tally AFTER INSERT OR DELETE ON token_entries '
        'FOR EACH ROW EXECUTE FUNCTION token_entries_tally()',
    ]


def _backfill(dialect: str) -> None:
    op.execute(
        'INSERT INTO case_tallies (case_id, practices, tokens_earned, tokens_spent) '
        'SELECT case_id, sum(practices), sum(earned), sum(spent) FROM ('
        ' SELECT case_id, 1 AS practices, 0 AS earned, 0 AS spent FROM practice_attempts'
        ' UNION ALL'
        " SELECT case_id, 0, CASE WHEN kind = 'earned' THEN amount ELSE 0 END,"
        " CASE WHEN kind = 'spent' THEN -amount ELSE 0 END FROM token_entries"
        ') AS entries GROUP BY case_id'
    )
    day = _day('practiced_at', dialect)
    op.execute(
        'INSERT INTO step_days (step_id, day, lowest_peak) '
        f'SELECT step_id, {day}, min(fear_peak) FROM practice_attempts GROUP BY step_id, {day}'
    )


def upgrade() -> None:
    op.create_table('case_tallies',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('practices', sa.Integer(), nullable=False),
    sa.Column('tokens_earned', sa.Integer(), nullable=False),
    sa.Column('tokens_spent', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_tallies_case_id_cases')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_tallies'))
    )
    op.create_table('step_days',
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('lowest_peak', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['step_id'], ['ladder_steps.id'], name=op.f('fk_step_days_step_id_ladder_steps')),
    sa.PrimaryKeyConstraint('step_id', 'day', name=op.f('pk_step_days'))
    )
    op.create_index('ix_step_days_step_peak', 'step_days', ['step_id', 'lowest_peak'], unique=False)
    dialect = op.get_bind().dialect.name
    _backfill(dialect)
    for statement in _postgres_triggers() if dialect == 'postgresql' else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in ('practice_attempts', 'token_entries'):
            op.execute(f'DROP TRIGGER IF EXISTS {table}_tally ON {table}')
            op.execute(f'DROP FUNCTION IF EXISTS {table}_tally()')
    else:
        for table in ('practice_attempts', 'token_entries'):
            for event in ('insert', 'delete', 'update'):
                op.execute(f'DROP TRIGGER IF EXISTS {table}_tally_{event}')
    op.drop_index('ix_step_days_step_peak', table_name='step_days')
    op.drop_table('step_days')
    op.drop_table('case_tallies')
