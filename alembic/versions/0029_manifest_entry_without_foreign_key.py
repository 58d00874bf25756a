"""manifest entries without a foreign key to their manifest

A manifest writes all its entries (16 million for a nation-wide permit) in the transaction
that inserts the manifest, right after it. On PostgreSQL the foreign key from
``manifest_entry.manifest_id`` to ``manifest`` checked every one of those rows by a trigger
locking the one manifest row again, five times the cost of writing the row itself. The
guarantee it gave stays: entries are only written by the manifest that owns them, in its
transaction; the table is append-only (the guards are made again below where SQLite rebuilds
the table); and ``coop ledger verify`` reports entries whose manifest is missing, as well as
every entry that does not match the manifest's size, root and member set.

Revision ID: 0029
Revises: 0027
Create Date: 2026-11-27 21:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "manifest_entry"
FOREIGN_KEY = "fk_manifest_entry_manifest_id_manifest"


def _sqlite_guards() -> None:
    """SQLite rebuilds the table to change a constraint, and its triggers go with the old one."""
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: {action} refused'); END"
            )


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(FOREIGN_KEY, type_="foreignkey")
    _sqlite_guards()


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_foreign_key(FOREIGN_KEY, "manifest", ["manifest_id"], ["id"])
    _sqlite_guards()
