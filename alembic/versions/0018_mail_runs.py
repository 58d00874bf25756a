"""mail: values many messages share, and the scheduled passes that write messages

``mail_shared``: values that many messages of one pass have in common (the permits and
results a data-use digest tells about), stored once; ``mail_outbox.shared_id`` points a
message at them. ``mail_run``: each scheduled pass of the mail worker that wrote messages
(a data-use digest, a vote's closing reminder), unique by what it covers, so that two
workers never write the same messages twice. Operational state, like the outbox: the
events they tell about are in the ledger of record already.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mail_shared',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_shared'))
    )
    op.create_table('mail_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('through_seq', sa.BigInteger(), nullable=True),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_run')),
    sa.UniqueConstraint('kind', 'key', name=op.f('uq_mail_run_kind_key'))
    )
    with op.batch_alter_table('mail_outbox') as batch:
        batch.add_column(sa.Column('shared_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_mail_outbox_shared_id_mail_shared'), 'mail_shared', ['shared_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('mail_outbox') as batch:
        batch.drop_constraint(op.f('fk_mail_outbox_shared_id_mail_shared'), type_='foreignkey')
        batch.drop_column('shared_id')
    op.drop_table('mail_run')
    op.drop_table('mail_shared')
