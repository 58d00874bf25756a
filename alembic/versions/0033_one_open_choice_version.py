"""at most one open choice version per member, refused by the database

A member's choices are a chain of versions, each closed (``valid_to``) when the next one
starts; the open one is what the member has chosen now. The services always closed the old
version before opening the new one, under the member's lock, and ``coop ledger verify``
names a broken chain; now the database refuses a second open version as well, with a unique
index over the open versions' members. The index is also how the open version is found:
without it PostgreSQL looked it up through the index on ``valid_to``, where every open
version shares the same NULL (slow until the table was analyzed, and slower the more
members were admitted at once).

A database that already holds a member with two open versions cannot take the index: the
upgrade stops and names them (``coop ledger verify`` says which events disagree).

Revision ID: 0033
Revises: 0032
Create Date: 2026-11-29 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_choice_version_open_member_id"
OPEN = "valid_to IS NULL"


def upgrade() -> None:
    twice = (
        op.get_bind()
        .execute(
            sa.text(
                f"SELECT member_id FROM choice_version WHERE {OPEN} "  # noqa: S608 (constants)
                "GROUP BY member_id HAVING count(*) > 1 ORDER BY member_id LIMIT 10"
            )
        )
        .scalars()
        .all()
    )
    if twice:
        raise RuntimeError(
            "these members have more than one open choice version, which the record does not allow: "
            f"{', '.join(map(str, twice))}; run `coop ledger verify` to see which rows disagree with their events"
        )
    op.create_index(
        INDEX, "choice_version", ["member_id"], unique=True, sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN)
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="choice_version")
