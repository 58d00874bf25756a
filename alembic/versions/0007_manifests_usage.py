"""manifests, usage and results

Manifests, their entries, reported usage and registered results are append-only, like
the ledger: compliance is computed from what was reported, which cannot be unsaid.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 19:33:34.501478
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coop.types


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY = ("manifest", "manifest_entry", "usage_event", "result")


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
    op.create_table('manifest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('as_of', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('root_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('created_at', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ledger_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['permit_id'], ['permit.id'], name=op.f('fk_manifest_permit_id_permit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifest'))
    )
    with op.batch_alter_table('manifest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_manifest_permit_id'), ['permit_id'], unique=False)

    op.create_table('result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('published_at', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('open_access', sa.Boolean(), nullable=False),
    sa.Column('registered_by', sa.String(length=40), nullable=False),
    sa.Column('registered_at', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['permit_id'], ['permit.id'], name=op.f('fk_result_permit_id_permit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_result'))
    )
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_result_permit_id'), ['permit_id'], unique=False)

    op.create_table('manifest_entry',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('manifest_id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sa.LargeBinary(length=32), nullable=False),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifest.id'], name=op.f('fk_manifest_entry_manifest_id_manifest')),
    sa.PrimaryKeyConstraint('member_id', 'manifest_id', name=op.f('pk_manifest_entry'))
    )
    with op.batch_alter_table('manifest_entry', schema=None) as batch_op:
        batch_op.create_index('ix_manifest_entry_manifest_id_pseudonym', ['manifest_id', 'pseudonym'], unique=True)

    op.create_table('usage_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('occurred_at', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('manifest_id', sa.Integer(), nullable=True),
    sa.Column('records', sa.BigInteger(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('client_ref', sa.String(length=80), nullable=True),
    sa.Column('reported_by', sa.String(length=40), nullable=False),
    sa.Column('reported_at', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifest.id'], name=op.f('fk_usage_event_manifest_id_manifest')),
    sa.ForeignKeyConstraint(['permit_id'], ['permit.id'], name=op.f('fk_usage_event_permit_id_permit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_event')),
    sa.UniqueConstraint('permit_id', 'client_ref', name=op.f('uq_usage_event_permit_id_client_ref'))
    )
    with op.batch_alter_table('usage_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usage_event_permit_id'), ['permit_id'], unique=False)
    for table in APPEND_ONLY:
        _append_only(table)


def downgrade() -> None:
    with op.batch_alter_table('usage_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_usage_event_permit_id'))

    op.drop_table('usage_event')
    with op.batch_alter_table('manifest_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_manifest_entry_manifest_id_pseudonym')

    op.drop_table('manifest_entry')
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_result_permit_id'))

    op.drop_table('result')
    with op.batch_alter_table('manifest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_manifest_permit_id'))

    op.drop_table('manifest')
