"""permits

A permit's contents never change; the database allows only filling in, once, the
extension and the revocation.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 19:15:07.096670
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coop.types


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


FROZEN = (
    "id, permit_number, applicant, user_type, purposes_mask, categories_mask, authorised_persons, conditions, "
    "data_holders, approved_at, valid_from, valid_until, fee_cents, benefit_share_pct, consultation_id, "
    "registered_by, registered_at"
)


def _write_once() -> None:
    if op.get_bind().dialect.name == "postgresql":
        refuse = "EXECUTE FUNCTION coop_refuse_rewrite()"
        op.execute(f"CREATE TRIGGER permit_no_delete BEFORE DELETE ON permit FOR EACH ROW {refuse}")
        op.execute(f"CREATE TRIGGER permit_frozen BEFORE UPDATE OF {FROZEN} ON permit FOR EACH ROW {refuse}")
        for column in ("extended_until", "revoked_at"):
            op.execute(
                f"CREATE TRIGGER permit_{column}_once BEFORE UPDATE OF {column} ON permit "
                f"FOR EACH ROW WHEN (OLD.{column} IS NOT NULL) {refuse}"
            )
        op.execute(f"CREATE TRIGGER permit_no_truncate BEFORE TRUNCATE ON permit FOR EACH STATEMENT {refuse}")
    else:
        abort = "BEGIN SELECT RAISE(ABORT, 'permit is written once: change refused'); END"
        op.execute(f"CREATE TRIGGER permit_no_delete BEFORE DELETE ON permit {abort}")
        op.execute(f"CREATE TRIGGER permit_frozen BEFORE UPDATE OF {FROZEN} ON permit {abort}")
        for column in ("extended_until", "revoked_at"):
            op.execute(
                f"CREATE TRIGGER permit_{column}_once BEFORE UPDATE OF {column} ON permit "
                f"WHEN OLD.{column} IS NOT NULL {abort}"
            )


def upgrade() -> None:
    op.create_table('permit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permit_number', sa.String(length=80), nullable=False),
    sa.Column('applicant', sa.String(length=200), nullable=False),
    sa.Column('user_type', sa.String(length=20), nullable=False),
    sa.Column('purposes_mask', sa.Integer(), nullable=False),
    sa.Column('categories_mask', sa.Integer(), nullable=False),
    sa.Column('authorised_persons', sa.Text(), nullable=False),
    sa.Column('conditions', sa.Text(), nullable=False),
    sa.Column('data_holders', sa.Text(), nullable=False),
    sa.Column('approved_at', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_from', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_until', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('fee_cents', sa.BigInteger(), nullable=False),
    sa.Column('benefit_share_pct', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=True),
    sa.Column('registered_by', sa.String(length=40), nullable=False),
    sa.Column('registered_at', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('extended_until', coop.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', coop.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revocation_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_permit_consultation_id_consultation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit')),
    sa.UniqueConstraint('permit_number', name=op.f('uq_permit_permit_number'))
    )
    _write_once()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for trigger in ("no_delete", "frozen", "extended_until_once", "revoked_at_once", "no_truncate"):
            op.execute(f"DROP TRIGGER permit_{trigger} ON permit")
    op.drop_table('permit')
