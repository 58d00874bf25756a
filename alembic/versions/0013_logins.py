"""logins: revocable tokens and shared throttling

``user_account.token_generation``: login tokens carry the generation they were issued in;
raising it ends every earlier token (logout, a new password, leaving).

``login_failures``: recent failed logins per throttling key (SHA-256 of the key only), so
that every serving process throttles with the same counts. Operational state, not the
cooperative's record: rows are updated in place and pruned, and no event records them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both engines: SQLite's batch mode would rebuild the table and
    # lose the write-once triggers of revision 0012.
    op.add_column('user_account', sa.Column('token_generation', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.create_table('login_failures',
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_hash', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_login_failures_last_failed_at', ['last_failed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_last_failed_at')
    op.drop_table('login_failures')
    op.execute('ALTER TABLE user_account DROP COLUMN token_generation')  # keeps the triggers, as above
