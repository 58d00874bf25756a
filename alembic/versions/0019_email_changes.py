"""email changes: a member's new address waits for the link sent to it

``member_email_change``: a member's new email address with the SHA-256 of the single-use,
short-lived link mailed to that address, who asked (the ledger's name of the member or the
board), and when the link was followed or replaced by a newer one. Operational state, like
password resets: the member's email changes only when the link is followed, and that change
is the ledger event ``member.email-changed`` (which names no address).

The member's ``name`` and ``email`` and the login's ``email`` need no new guard: migration
0012 already lets exactly those personal columns change (they are kept out of the ledger of
record, so that a person can be corrected or forgotten without rewriting it), and keeps
every other column of those rows written once.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('member_email_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('new_email', sa.String(length=320), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('requested_by', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_member_email_change_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_email_change')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_member_email_change_token_hash'))
    )
    op.create_index(op.f('ix_member_email_change_member_id'), 'member_email_change', ['member_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_member_email_change_member_id'), table_name='member_email_change')
    op.drop_table('member_email_change')
