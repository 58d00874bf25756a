"""member sets

Manifests keep their members also as a bit set, so that a distribution reads a permit's
members in one row instead of one row per member. A distribution stores what each member
receives and, per permit, where the rotation of leftover cents starts; the per-member,
per-permit rows go (they follow from these). A database that holds distributions made
before this revision is refused rather than converted: their leftover cents were placed
by another rule, which this version cannot show members.

Postings lose their foreign keys to entries and accounts: on PostgreSQL each check locked
the referenced row once per posting (a closing entry for a million members took minutes).
The books check both when posting, and `coop ledger verify` checks them afterwards.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
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


def _bits(members: list[int]) -> bytes:
    """The encoding of coop.permits.member_sets, restated so the migration never changes."""
    if not members:
        return b""
    out = bytearray(max(members) // 8 + 1)
    for m in members:
        out[m // 8] |= 0x80 >> (m % 8)
    return bytes(out)


def _distribution_tables(old: bool) -> None:
    op.create_table('distribution_permit',
    sa.Column('distribution_id', sa.Integer(), nullable=False),
    sa.Column('permit_id', sa.Integer(), nullable=False),
    sa.Column('revenue_cents', sa.BigInteger(), nullable=False),
    sa.Column('pool_cents', sa.BigInteger(), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    *([] if old else [sa.Column('rotation_start', sa.Integer(), nullable=False)]),
    sa.ForeignKeyConstraint(['distribution_id'], ['distribution.id'], name=op.f('fk_distribution_permit_distribution_id_distribution')),
    sa.ForeignKeyConstraint(['permit_id'], ['permit.id'], name=op.f('fk_distribution_permit_permit_id_permit')),
    sa.PrimaryKeyConstraint('distribution_id', 'permit_id', name=op.f('pk_distribution_permit'))
    )
    if old:
        op.create_table('distribution_share',
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('distribution_id', sa.Integer(), nullable=False),
        sa.Column('permit_id', sa.Integer(), nullable=False),
        sa.Column('cents', sa.BigInteger(), nullable=False),
        sa.Column('donated', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['distribution_id'], ['distribution.id'], name=op.f('fk_distribution_share_distribution_id_distribution')),
        sa.PrimaryKeyConstraint('member_id', 'distribution_id', 'permit_id', name=op.f('pk_distribution_share'))
        )
    else:
        op.create_table('distribution_member',
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('distribution_id', sa.Integer(), nullable=False),
        sa.Column('cents', sa.BigInteger(), nullable=False),
        sa.Column('donated', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('member_id', 'distribution_id', name=op.f('pk_distribution_member'))
        )
    _append_only('distribution_permit')
    _append_only('distribution_share' if old else 'distribution_member')


POSTING_FKS = (
    ("fk_money_posting_entry_id_money_entry", "money_entry", ["entry_id"], ["id"]),
    ("fk_money_posting_account_money_account", "money_account", ["account"], ["code"]),
)


def _posting_foreign_keys(keep: bool) -> None:
    """Drop (or restore) the postings' foreign keys; SQLite rebuilds the table for it, which
    drops its triggers, so they are made again."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("money_posting", recreate="auto") as batch:
        for name, table, local, remote in POSTING_FKS:
            if keep:
                batch.create_foreign_key(name, table, local, remote)
            else:
                batch.drop_constraint(name, type_="foreignkey")
    if sqlite:
        _append_only("money_posting")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM distribution")).scalar():
        raise RuntimeError(
            "this database holds distributions made before revision 0010; they cannot be converted "
            "(their leftover cents were placed by another rule): restore them into a release before 0010"
        )
    op.drop_table('distribution_share')
    op.drop_table('distribution_permit')
    _distribution_tables(old=False)
    op.create_table('manifest_member_set',
    sa.Column('manifest_id', sa.Integer(), nullable=False),
    sa.Column('bits', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifest.id'], name=op.f('fk_manifest_member_set_manifest_id_manifest')),
    sa.PrimaryKeyConstraint('manifest_id', name=op.f('pk_manifest_member_set'))
    )
    sets = sa.table('manifest_member_set', sa.column('manifest_id', sa.Integer()), sa.column('bits', sa.LargeBinary()))
    for (manifest_id,) in bind.execute(sa.text("SELECT id FROM manifest ORDER BY id")).all():
        members = bind.execute(
            sa.text("SELECT member_id FROM manifest_entry WHERE manifest_id = :m"), {"m": manifest_id}
        ).scalars().all()
        bind.execute(sa.insert(sets).values(manifest_id=manifest_id, bits=_bits(list(members))))
    _append_only('manifest_member_set')
    _posting_foreign_keys(keep=False)


def downgrade() -> None:
    _posting_foreign_keys(keep=True)
    op.drop_table('manifest_member_set')
    op.drop_table('distribution_member')
    op.drop_table('distribution_permit')
    _distribution_tables(old=True)
