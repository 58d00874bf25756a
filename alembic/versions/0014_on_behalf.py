"""permits on behalf of a public-sector body

``permit.on_behalf_of_public_body``: the applicant processes the data on behalf of a
public-sector body (EHDS Art. 53(2)), so the permit is decided as that body's use. Every
permit registered before this revision was not: false.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TRIGGER = "permit_on_behalf_frozen"


def upgrade() -> None:
    # A plain ADD COLUMN on both engines: SQLite's batch mode would rebuild the table and
    # lose the write-once triggers of revisions 0006 and 0012.
    op.add_column(
        'permit', sa.Column('on_behalf_of_public_body', sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OF on_behalf_of_public_body ON permit "
            "FOR EACH ROW EXECUTE FUNCTION coop_refuse_rewrite()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OF on_behalf_of_public_body ON permit "
            "BEGIN SELECT RAISE(ABORT, 'permit is written once: change refused'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {TRIGGER} ON permit")
    else:
        op.execute(f"DROP TRIGGER {TRIGGER}")
    op.execute('ALTER TABLE permit DROP COLUMN on_behalf_of_public_body')  # keeps the triggers, as above
