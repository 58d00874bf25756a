"""manifests

Manifests and their entries are append-only, like the ledger.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 19:21:44.703271
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coop.types


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


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

    op.create_table('manifest_entry',
    sa.Column('manifest_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sa.LargeBinary(length=32), nullable=False),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifest.id'], name=op.f('fk_manifest_entry_manifest_id_manifest')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_manifest_entry_member_id_member')),
    sa.PrimaryKeyConstraint('manifest_id', 'member_id', name=op.f('pk_manifest_entry'))
    )
    with op.batch_alter_table('manifest_entry', schema=None) as batch_op:
        batch_op.create_index('ix_manifest_entry_manifest_id_pseudonym', ['manifest_id', 'pseudonym'], unique=True)
        batch_op.create_index(batch_op.f('ix_manifest_entry_member_id'), ['member_id'], unique=False)
    _append_only("manifest")
    _append_only("manifest_entry")


def downgrade() -> None:
    with op.batch_alter_table('manifest_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_manifest_entry_member_id'))
        batch_op.drop_index('ix_manifest_entry_manifest_id_pseudonym')

    op.drop_table('manifest_entry')
    with op.batch_alter_table('manifest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_manifest_permit_id'))

    op.drop_table('manifest')
