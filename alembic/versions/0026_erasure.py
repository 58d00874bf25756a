"""erasure: a former member's request to be forgotten, and the erasure of their details

``member`` gains three moments, each filled in once and then never changed:

* ``erasure_requested_at``: the former member (or the board, on their request by letter)
  asked to erase now what the books do not need (``member.erasure-requested``);
* ``contact_erased_at``: their email address, their login, new addresses waiting for a link
  and the outbox's copies of their address were erased (``member.erased``);
* ``name_erased_at``: their name was erased, once the retention period for the books had
  passed after they left (``member.erased``).

Plain ADD COLUMNs, so SQLite keeps the table and its triggers (0012). Once erased, a value
stays erased: the name and the email cannot be written again after their moment is set.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-27 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import coop.types
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("erasure_requested_at", "contact_erased_at", "name_erased_at")
ERASED_STAYS = {"name": "name_erased_at", "email": "contact_erased_at"}


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _refuse_when(name: str, columns: str, condition: str) -> None:
    if _postgres():
        op.execute(
            f"CREATE TRIGGER {name} BEFORE UPDATE OF {columns} ON member FOR EACH ROW WHEN ({condition}) "
            "EXECUTE FUNCTION coop_refuse_rewrite()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {name} BEFORE UPDATE OF {columns} ON member WHEN {condition} "
            "BEGIN SELECT RAISE(ABORT, 'member is written once: change refused'); END"
        )


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("member", sa.Column(column, coop.types.UTCDateTime(timezone=True), nullable=True))
        _refuse_when(f"member_{column}_once", column, f"OLD.{column} IS NOT NULL")
    for column, moment in ERASED_STAYS.items():
        _refuse_when(f"member_{column}_erased", column, f"OLD.{moment} IS NOT NULL")


def downgrade() -> None:
    for name in [f"member_{c}_once" for c in COLUMNS] + [f"member_{c}_erased" for c in ERASED_STAYS]:
        op.execute(f"DROP TRIGGER {name}" + (" ON member" if _postgres() else ""))
    for column in reversed(COLUMNS):
        # a plain DROP COLUMN (SQLite 3.35+): rebuilding the table would lose its triggers
        op.execute(f"ALTER TABLE member DROP COLUMN {column}")
