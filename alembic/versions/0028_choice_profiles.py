"""choice profiles: members counted per distinct profile, so a consultation at now reads
profiles instead of every member

* ``choice_member_profile``: each member's state as counted (their open version, the proxies
  of their appointments in force, when counted and when that ends);
* ``choice_profile``: how many members share each profile, per user type;
* ``choice_profile_watermark``: one row, how far they are counted.

Derived and updated in place (outside the record; ``coop ledger verify`` recounts them), so
no append-only triggers. Filled from the versions and appointments already there, with the
SQL that ``coop ledger recount-profiles`` runs.

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-27 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import coop.types
from alembic import op
from coop.choices import recount

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "choice_member_profile",
        sa.Column("member_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("is_member", sa.Boolean(), nullable=False),
        sa.Column("opt_out", sa.Boolean(), nullable=False),
        sa.Column("excluded_mask", sa.Integer(), nullable=False),
        sa.Column("preference_mask", sa.BigInteger(), nullable=False),
        sa.Column("sensitive_yes_mask", sa.Integer(), nullable=False),
        sa.Column("proxies", sa.String(length=400), nullable=False),
        sa.Column("counted_at", coop.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", coop.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_choice_member_profile")),
    )
    op.create_index(op.f("ix_choice_member_profile_expires_at"), "choice_member_profile", ["expires_at"], unique=False)
    op.create_table(
        "choice_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_type", sa.String(length=20), nullable=False),
        sa.Column("is_member", sa.Boolean(), nullable=False),
        sa.Column("opt_out", sa.Boolean(), nullable=False),
        sa.Column("excluded_mask", sa.Integer(), nullable=False),
        sa.Column("codes", sa.Integer(), nullable=False),
        sa.Column("sensitive_yes_mask", sa.Integer(), nullable=False),
        sa.Column("proxies", sa.String(length=400), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_choice_profile")),
        sa.UniqueConstraint(
            "user_type",
            "is_member",
            "opt_out",
            "excluded_mask",
            "codes",
            "sensitive_yes_mask",
            "proxies",
            name=op.f("uq_choice_profile_key"),
        ),
    )
    op.create_table(
        "choice_profile_watermark",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("counted_to", coop.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_version_id", sa.Integer(), nullable=False),
        sa.Column("last_appointment_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_choice_profile_watermark")),
    )
    recount.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("choice_profile_watermark")
    op.drop_table("choice_profile")
    op.drop_index(op.f("ix_choice_member_profile_expires_at"), table_name="choice_member_profile")
    op.drop_table("choice_member_profile")
