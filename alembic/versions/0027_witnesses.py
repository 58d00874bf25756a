"""witnesses: their cosignatures on the log's checkpoints, and each witness's state

* ``witness_cosignature``: one ``cosignature/v1`` line per witness and checkpoint (size and
  root), verified with the witness's key before it is written. Append-only: the database
  refuses UPDATE and DELETE (and on PostgreSQL TRUNCATE), like the record's append-only
  tables (0001, 0025), though it is outside the record (a signature by someone else).
* ``witness_state``: per witness, the size it last cosigned and the last attempt and error,
  updated in place.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-27 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import coop.types
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = "witness_cosignature"


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
    op.create_table(
        "witness_cosignature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("witness", sa.String(length=80), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("cosigned_at", coop.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("received_at", coop.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_witness_cosignature")),
        sa.UniqueConstraint(
            "witness", "tree_size", "root_hash", name=op.f("uq_witness_cosignature_witness_tree_size_root_hash")
        ),
    )
    op.create_index(op.f("ix_witness_cosignature_tree_size"), "witness_cosignature", ["tree_size"], unique=False)
    op.create_table(
        "witness_state",
        sa.Column("witness", sa.String(length=80), nullable=False),
        sa.Column("cosigned_size", sa.BigInteger(), nullable=False),
        sa.Column("cosigned_at", coop.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempted_at", coop.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_at", coop.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("witness", name=op.f("pk_witness_state")),
    )
    _append_only(APPEND_ONLY)


def downgrade() -> None:
    op.drop_table("witness_state")
    op.drop_table("witness_cosignature")  # its triggers go with it
