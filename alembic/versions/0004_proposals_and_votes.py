"""proposals and votes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 19:04:06.038199
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coop.types


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('opens_at', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('quorum_pct', sa.Integer(), nullable=False),
    sa.Column('majority_pct', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('created_at', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', coop.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('electorate', sa.Integer(), nullable=True),
    sa.Column('yes', sa.Integer(), nullable=True),
    sa.Column('no', sa.Integer(), nullable=True),
    sa.Column('abstain', sa.Integer(), nullable=True),
    sa.Column('adopted_version', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal'))
    )
    op.create_table('vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('vote', sa.String(length=10), nullable=False),
    sa.Column('cast_at', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cast_by', sa.String(length=40), nullable=False),
    sa.Column('proxy_member_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_vote_member_id_member')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_vote_proposal_id_proposal')),
    sa.ForeignKeyConstraint(['proxy_member_id'], ['member.id'], name=op.f('fk_vote_proxy_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vote')),
    sa.UniqueConstraint('proposal_id', 'member_id', name=op.f('uq_vote_proposal_id_member_id'))
    )


def downgrade() -> None:
    op.drop_table('vote')
    op.drop_table('proposal')
