"""double-entry books

Accounts, entries and postings are append-only: corrections are reversing entries.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 19:49:03.712211
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coop.types


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY = ("money_account", "money_entry", "money_posting")


def _append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION coop_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION coop_refuse_change()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
            )


def upgrade() -> None:
    op.create_table('money_account',
    sa.Column('code', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('no_negative', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_money_account'))
    )
    op.create_table('money_entry',
    sa.Column('id', sa.String(length=80), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('ledger_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_money_entry'))
    )
    with op.batch_alter_table('money_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_money_entry_booked_on'), ['booked_on'], unique=False)

    op.create_table('money_posting',
    sa.Column('entry_id', sa.String(length=80), nullable=False),
    sa.Column('line', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('account', sa.String(length=120), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account'], ['money_account.code'], name=op.f('fk_money_posting_account_money_account')),
    sa.ForeignKeyConstraint(['entry_id'], ['money_entry.id'], name=op.f('fk_money_posting_entry_id_money_entry')),
    sa.PrimaryKeyConstraint('entry_id', 'line', name=op.f('pk_money_posting'))
    )
    with op.batch_alter_table('money_posting', schema=None) as batch_op:
        batch_op.create_index('ix_money_posting_account_amount_cents', ['account', 'amount_cents'], unique=False)
    for table in APPEND_ONLY:
        _append_only(table)


def downgrade() -> None:
    with op.batch_alter_table('money_posting', schema=None) as batch_op:
        batch_op.drop_index('ix_money_posting_account_amount_cents')

    op.drop_table('money_posting')
    with op.batch_alter_table('money_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_money_entry_booked_on'))

    op.drop_table('money_entry')
    op.drop_table('money_account')
