"""governance documents

Versions of the mandate and the benefit policy are append-only, like the ledger.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 18:35:04.869424
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coop.types


revision: str = '0002'
down_revision: str | None = '0001'
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
    op.create_table('governance_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('effective_from', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_governance_document')),
    sa.UniqueConstraint('kind', 'version', name=op.f('uq_governance_document_kind_version'))
    )
    with op.batch_alter_table('governance_document', schema=None) as batch_op:
        batch_op.create_index('ix_governance_document_kind_effective_from', ['kind', 'effective_from'], unique=False)
    _append_only("governance_document")


def downgrade() -> None:
    with op.batch_alter_table('governance_document', schema=None) as batch_op:
        batch_op.drop_index('ix_governance_document_kind_effective_from')

    op.drop_table('governance_document')
