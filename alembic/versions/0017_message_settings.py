"""message settings: which optional messages a member gets, and how often

``member_message_settings``: one row per member who changed a setting (no row: the
defaults). Operational state, like the outbox: a member's wish about their mail, not a
decision of the cooperative, so no event records it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('member_message_settings',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('dividend', sa.Boolean(), nullable=False),
    sa.Column('digest', sa.String(length=12), nullable=False),
    sa.Column('votes', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_member_message_settings_member_id_member')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_message_settings'))
    )


def downgrade() -> None:
    op.drop_table('member_message_settings')
