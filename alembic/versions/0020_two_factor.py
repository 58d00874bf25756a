"""two-factor sign-in: board users' authenticator apps and recovery codes

``two_factor``: one row per login that set up an authenticator app (TOTP): the shared
secret, encrypted under a key derived from the installation's secret, when a first code
confirmed it (``enabled_at``), and the last time step a code was accepted in (no code works
twice). ``two_factor_recovery_code``: one-time codes, kept as keyed hashes, each used once.

Operational state, outside the ledger of record (a secret must never reach it, and the last
time step moves at every sign-in): switching two-factor sign-in on and off, resets and used
recovery codes are the events ``two-factor.*``, which name only the account.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-27 11:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('two_factor',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_step', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_two_factor_user_id_user_account')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_two_factor'))
    )
    op.create_table('two_factor_recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_two_factor_recovery_code_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_two_factor_recovery_code')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_two_factor_recovery_code_code_hash'))
    )
    op.create_index(op.f('ix_two_factor_recovery_code_user_id'), 'two_factor_recovery_code', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_two_factor_recovery_code_user_id'), table_name='two_factor_recovery_code')
    op.drop_table('two_factor_recovery_code')
    op.drop_table('two_factor')
