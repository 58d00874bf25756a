"""a member's reference in the membership administration

``member.external_ref``: the number or code under which the cooperative's membership
administration knows the member, given when members are admitted in bulk from its export
(``coop members import``). Optional and unique when given, so importing the same file again
admits nobody twice. Like the name and email it is identity: it stays out of the ledger of
record.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN and a separate unique index on both engines: SQLite's batch mode
    # would rebuild the table and lose the write-once triggers of revision 0012.
    op.add_column('member', sa.Column('external_ref', sa.String(length=100), nullable=True))
    op.create_index('uq_member_external_ref', 'member', ['external_ref'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_member_external_ref', table_name='member')
    op.execute('ALTER TABLE member DROP COLUMN external_ref')
