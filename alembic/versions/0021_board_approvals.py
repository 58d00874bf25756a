"""board approvals: four eyes on committing a distribution and publishing the annual report

``board_approval``: a board user's request that a second board user let a distribution be
committed or an annual report be published, pinned to what the asker saw (the draft's digest
or the SHA-256 of the report's figures), and how it ended: approved (the commit or
publication happened in the same transaction), declined by another board user, or
withdrawn by the asker. Part of the record (events ``approval.requested``,
``approval.approved``, ``approval.declined``, ``approval.withdrawn``): never deleted, its
request never changes, and its outcome is filled in once. At most one request per
distribution or report year is open at a time (a partial unique index).

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-27 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FROZEN = "id, action, target, distribution_id, year, languages, pinned, requested_by, requested_at"
DECIDED = "outcome, decided_by, decided_at"


def upgrade() -> None:
    op.create_table('board_approval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=80), nullable=False),
    sa.Column('distribution_id', sa.Integer(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('languages', sa.String(length=40), nullable=True),
    sa.Column('pinned', sa.String(length=64), nullable=False),
    sa.Column('requested_by', sa.String(length=40), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('decided_by', sa.String(length=40), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['distribution_id'], ['distribution.id'], name=op.f('fk_board_approval_distribution_id_distribution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_board_approval'))
    )
    op.create_index(
        'uq_board_approval_open_target', 'board_approval', ['target'], unique=True,
        sqlite_where=sa.text('decided_at IS NULL'), postgresql_where=sa.text('decided_at IS NULL'),
    )
    if op.get_bind().dialect.name == "postgresql":
        refuse = "EXECUTE FUNCTION coop_refuse_rewrite()"
        op.execute(f"CREATE TRIGGER board_approval_no_delete BEFORE DELETE ON board_approval FOR EACH ROW {refuse}")
        op.execute(f"CREATE TRIGGER board_approval_frozen BEFORE UPDATE OF {FROZEN} ON board_approval FOR EACH ROW {refuse}")
        op.execute(
            f"CREATE TRIGGER board_approval_decided_once BEFORE UPDATE OF {DECIDED} ON board_approval "
            f"FOR EACH ROW WHEN (OLD.decided_at IS NOT NULL) {refuse}"
        )
        op.execute(f"CREATE TRIGGER board_approval_no_truncate BEFORE TRUNCATE ON board_approval FOR EACH STATEMENT {refuse}")
    else:
        abort = "BEGIN SELECT RAISE(ABORT, 'board_approval is written once: change refused'); END"
        op.execute(f"CREATE TRIGGER board_approval_no_delete BEFORE DELETE ON board_approval {abort}")
        op.execute(f"CREATE TRIGGER board_approval_frozen BEFORE UPDATE OF {FROZEN} ON board_approval {abort}")
        op.execute(
            f"CREATE TRIGGER board_approval_decided_once BEFORE UPDATE OF {DECIDED} ON board_approval "
            f"WHEN OLD.decided_at IS NOT NULL {abort}"
        )


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for trigger in ("no_delete", "frozen", "decided_once", *(("no_truncate",) if pg else ())):
        op.execute(f"DROP TRIGGER board_approval_{trigger} ON board_approval" if pg else f"DROP TRIGGER board_approval_{trigger}")
    op.drop_index('uq_board_approval_open_target', table_name='board_approval')
    op.drop_table('board_approval')
