"""distributions

A distribution's figures never change; only its commit time is filled in, once.
Its permits and shares are append-only.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 19:56:39.215713
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coop.types


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


FROZEN = (
    "id, period_start, period_end, policy_version, digest, net_income_cents, reserve_cents, solidarity_cents, "
    "members_pool_cents, unclaimed_cents, donated_cents, created_by, created_at"
)


def _guards() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for table in ("distribution_permit", "distribution_share"):
        if pg:
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
    if pg:
        refuse = "EXECUTE FUNCTION coop_refuse_rewrite()"
        op.execute(f"CREATE TRIGGER distribution_no_delete BEFORE DELETE ON distribution FOR EACH ROW {refuse}")
        op.execute(f"CREATE TRIGGER distribution_frozen BEFORE UPDATE OF {FROZEN} ON distribution FOR EACH ROW {refuse}")
        op.execute(
            "CREATE TRIGGER distribution_committed_once BEFORE UPDATE OF committed_at ON distribution "
            f"FOR EACH ROW WHEN (OLD.committed_at IS NOT NULL) {refuse}"
        )
        op.execute(f"CREATE TRIGGER distribution_no_truncate BEFORE TRUNCATE ON distribution FOR EACH STATEMENT {refuse}")
    else:
        abort = "BEGIN SELECT RAISE(ABORT, 'distribution is written once: change refused'); END"
        op.execute(f"CREATE TRIGGER distribution_no_delete BEFORE DELETE ON distribution {abort}")
        op.execute(f"CREATE TRIGGER distribution_frozen BEFORE UPDATE OF {FROZEN} ON distribution {abort}")
        op.execute(
            "CREATE TRIGGER distribution_committed_once BEFORE UPDATE OF committed_at ON distribution "
            f"WHEN OLD.committed_at IS NOT NULL {abort}"
        )


def upgrade() -> None:
    op.create_table('distribution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('net_income_cents', sa.BigInteger(), nullable=False),
    sa.Column('reserve_cents', sa.BigInteger(), nullable=False),
    sa.Column('solidarity_cents', sa.BigInteger(), nullable=False),
    sa.Column('members_pool_cents', sa.BigInteger(), nullable=False),
    sa.Column('unclaimed_cents', sa.BigInteger(), nullable=False),
    sa.Column('donated_cents', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('created_at', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('committed_at', coop.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution'))
    )
    op.create_table('distribution_share',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('distribution_id', sa.Integer(), nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('cents', sa.BigInteger(), nullable=False),
    sa.Column('donated', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['distribution_id'], ['distribution.id'], name=op.f('fk_distribution_share_distribution_id_distribution')),
    sa.PrimaryKeyConstraint('member_id', 'distribution_id', 'permit_id', name=op.f('pk_distribution_share'))
    )
    op.create_table('distribution_permit',
    sa.Column('distribution_id', sa.Integer(), nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('revenue_cents', sa.BigInteger(), nullable=False),
    sa.Column('pool_cents', sa.BigInteger(), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['distribution_id'], ['distribution.id'], name=op.f('fk_distribution_permit_distribution_id_distribution')),
    sa.ForeignKeyConstraint(['permit_id'], ['permit.id'], name=op.f('fk_distribution_permit_permit_id_permit')),
    sa.PrimaryKeyConstraint('distribution_id', 'permit_id', name=op.f('pk_distribution_permit'))
    )
    _guards()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for trigger in ("no_delete", "frozen", "committed_once", "no_truncate"):
            op.execute(f"DROP TRIGGER distribution_{trigger} ON distribution")
    op.drop_table('distribution_permit')
    op.drop_table('distribution_share')
    op.drop_table('distribution')
