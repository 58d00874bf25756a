"""choices and proxies

Choice versions and proxy appointments are written once. The database refuses DELETE
and any UPDATE except filling in, once, the one column that closes the record:
``choice_version.valid_to`` and ``proxy_appointment.revoked_at``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 18:37:03.261775
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coop.types


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


FROZEN = {
    "choice_version": (
        "valid_to",
        "id, member_id, version, valid_from, is_member, opt_out, excluded_mask, preference_mask, "
        "donate_dividend, recorded_by, acting_proxy_id",
    ),
    "proxy_appointment": (
        "revoked_at",
        "id, principal_id, proxy_member_id, purposes_mask, voting, valid_from, valid_until, appointed_by",
    ),
}


def _write_once(table: str, closing: str, columns: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        refuse = "FOR EACH ROW EXECUTE FUNCTION coop_refuse_rewrite()"
        op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {refuse}")
        op.execute(f"CREATE TRIGGER {table}_frozen BEFORE UPDATE OF {columns} ON {table} {refuse}")
        op.execute(
            f"CREATE TRIGGER {table}_closed_once BEFORE UPDATE OF {closing} ON {table} "
            f"FOR EACH ROW WHEN (OLD.{closing} IS NOT NULL) EXECUTE FUNCTION coop_refuse_rewrite()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION coop_refuse_rewrite()"
        )
    else:
        abort = f"BEGIN SELECT RAISE(ABORT, '{table} is written once: change refused'); END"
        op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {abort}")
        op.execute(f"CREATE TRIGGER {table}_frozen BEFORE UPDATE OF {columns} ON {table} {abort}")
        op.execute(
            f"CREATE TRIGGER {table}_closed_once BEFORE UPDATE OF {closing} ON {table} "
            f"WHEN OLD.{closing} IS NOT NULL {abort}"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION coop_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is written once: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'restrict_violation';
            END $$
            """
        )
    op.create_table('choice_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('valid_from', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_to', coop.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('is_member', sa.Boolean(), nullable=False),
    sa.Column('opt_out', sa.Boolean(), nullable=False),
    sa.Column('excluded_mask', sa.Integer(), nullable=False),
    sa.Column('preference_mask', sa.BigInteger(), nullable=False),
    sa.Column('donate_dividend', sa.Boolean(), nullable=False),
    sa.Column('recorded_by', sa.String(length=40), nullable=False),
    sa.Column('acting_proxy_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['acting_proxy_id'], ['member.id'], name=op.f('fk_choice_version_acting_proxy_id_member')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_choice_version_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_choice_version')),
    sa.UniqueConstraint('member_id', 'version', name=op.f('uq_choice_version_member_id_version'))
    )
    with op.batch_alter_table('choice_version', schema=None) as batch_op:
        batch_op.create_index('ix_choice_version_member_id_valid_from', ['member_id', 'valid_from'], unique=False)
        batch_op.create_index('ix_choice_version_valid_to', ['valid_to'], unique=False)

    op.create_table('proxy_appointment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('principal_id', sa.Integer(), nullable=False),
    sa.Column('proxy_member_id', sa.Integer(), nullable=False),
    sa.Column('purposes_mask', sa.Integer(), nullable=False),
    sa.Column('voting', sa.Boolean(), nullable=False),
    sa.Column('valid_from', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_until', coop.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', coop.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('appointed_by', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['principal_id'], ['member.id'], name=op.f('fk_proxy_appointment_principal_id_member')),
    sa.ForeignKeyConstraint(['proxy_member_id'], ['member.id'], name=op.f('fk_proxy_appointment_proxy_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proxy_appointment'))
    )
    with op.batch_alter_table('proxy_appointment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proxy_appointment_principal_id'), ['principal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proxy_appointment_proxy_member_id'), ['proxy_member_id'], unique=False)
    for table, (closing, columns) in FROZEN.items():
        _write_once(table, closing, columns)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in FROZEN:
            for trigger in ("no_delete", "frozen", "closed_once", "no_truncate"):
                op.execute(f"DROP TRIGGER {table}_{trigger} ON {table}")
        op.execute("DROP FUNCTION coop_refuse_rewrite()")
    with op.batch_alter_table('proxy_appointment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proxy_appointment_proxy_member_id'))
        batch_op.drop_index(batch_op.f('ix_proxy_appointment_principal_id'))

    op.drop_table('proxy_appointment')
    with op.batch_alter_table('choice_version', schema=None) as batch_op:
        batch_op.drop_index('ix_choice_version_valid_to')
        batch_op.drop_index('ix_choice_version_member_id_valid_from')

    op.drop_table('choice_version')
