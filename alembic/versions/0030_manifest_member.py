"""the members' index of manifests in a table of its own

``manifest_entry`` was keyed by (member_id, manifest_id) for the member's view of the
permits that used their data, and had a unique index by (manifest_id, pseudonym) for the
manifest's download. A manifest writes its 16 million entries in pseudonym order, which is
random member order: keeping the member-first key up took PostgreSQL five times as long as
writing the rows. The entries are now keyed by (manifest_id, pseudonym) alone, and the
member-first index moves to ``manifest_member (member_id, manifest_id)``: two integers a row,
written in member order. Both are append-only; ``coop ledger verify`` reports a
``manifest_member`` row missing, added or pointing to another manifest than the entries.

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-27 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTRY = "manifest_entry"
MEMBER = "manifest_member"
BY_PSEUDONYM = "ix_manifest_entry_manifest_id_pseudonym"


def _guards(table: str) -> None:
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


def _drop_guards(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{action}")


def _rekey(columns: list[str], index: bool) -> None:
    """Make ``columns`` the entries' primary key; with ``index``, keep the (manifest_id,
    pseudonym) index beside it, as before this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {ENTRY} DROP CONSTRAINT pk_{ENTRY}")
        if index:
            op.execute(f"ALTER TABLE {ENTRY} ADD CONSTRAINT pk_{ENTRY} PRIMARY KEY ({', '.join(columns)})")
            op.execute(f"CREATE UNIQUE INDEX {BY_PSEUDONYM} ON {ENTRY} (manifest_id, pseudonym)")
        else:  # the unique index already holds the key: it becomes the key's index
            op.execute(f"ALTER TABLE {ENTRY} ADD CONSTRAINT pk_{ENTRY} PRIMARY KEY USING INDEX {BY_PSEUDONYM}")
        return
    with op.batch_alter_table(ENTRY, schema=None, recreate="always") as batch_op:
        if not index:
            batch_op.drop_index(BY_PSEUDONYM)
        batch_op.drop_constraint(f"pk_{ENTRY}", type_="primary")
        batch_op.create_primary_key(f"pk_{ENTRY}", columns)
        if index:
            batch_op.create_index(BY_PSEUDONYM, ["manifest_id", "pseudonym"], unique=True)
    _guards(ENTRY)  # SQLite's triggers went with the rebuilt table


def upgrade() -> None:
    op.create_table(
        MEMBER,
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("manifest_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "manifest_id", name=op.f(f"pk_{MEMBER}")),
    )
    op.execute(
        "INSERT INTO manifest_member (member_id, manifest_id) "
        "SELECT member_id, manifest_id FROM manifest_entry ORDER BY member_id, manifest_id"
    )
    _guards(MEMBER)
    _rekey(["manifest_id", "pseudonym"], index=False)


def downgrade() -> None:
    _rekey(["member_id", "manifest_id"], index=True)
    _drop_guards(MEMBER)
    op.drop_table(MEMBER)
