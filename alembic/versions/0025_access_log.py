"""access log: who looked at a member's data

* ``access_record``: one row per read of members' data by someone other than the member (the
  board, a proxy or carer, a permit's manifest downloaded), proven by its ``access.recorded``
  event in the ledger of record. Append-only: the database refuses UPDATE and DELETE (and on
  PostgreSQL TRUNCATE), like the other append-only tables of the record (0001, 0005, 0007).
* ``access_record_member``: the members a read of a list showed (one row each), part of the
  record's event; append-only too.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-27 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import coop.types
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("access_record", "access_record_member")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _append_only(table: str) -> None:
    if _postgres():
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
        "access_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", coop.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("reader", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("what", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("manifest_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_access_record_member_id_member")),
        sa.ForeignKeyConstraint(["manifest_id"], ["manifest.id"], name=op.f("fk_access_record_manifest_id_manifest")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_record")),
    )
    op.create_index("ix_access_record_member_id_id", "access_record", ["member_id", "id"], unique=False)
    op.create_index(op.f("ix_access_record_manifest_id"), "access_record", ["manifest_id"], unique=False)
    op.create_table(
        "access_record_member",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["access_record.id"], name=op.f("fk_access_record_member_record_id_access_record")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_access_record_member_member_id_member")),
        sa.PrimaryKeyConstraint("record_id", "member_id", name=op.f("pk_access_record_member")),
    )
    op.create_index(
        "ix_access_record_member_member_id", "access_record_member", ["member_id", "record_id"], unique=False
    )
    for table in TABLES:
        _append_only(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)  # its triggers go with it
