"""the member's own yes per sensitive category (EHDS Art. 51(4))

``choice_version.sensitive_yes_mask``: one bit per category (the positions of
:mod:`coop.vocabulary.terms`), set for each sensitive category (genomic, other -omics,
wellness-app and biobank data) the member gave their own explicit yes for: where the
mandate needs the member's explicit allow for sensitive data, it may then use that category
of this member's data. Every version written before this revision had no such yes: 0.

The column is written once like the rest of the version (revision 0003 froze the columns
it knew by name), so it gets a guard of its own.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-27 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TRIGGER = "choice_version_sensitive_yes_frozen"


def upgrade() -> None:
    # A plain ADD COLUMN on both engines: SQLite's batch mode would rebuild the table and
    # lose the write-once triggers of revisions 0003 and 0012.
    op.add_column(
        'choice_version', sa.Column('sensitive_yes_mask', sa.Integer(), server_default=sa.text('0'), nullable=False)
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OF sensitive_yes_mask ON choice_version "
            "FOR EACH ROW EXECUTE FUNCTION coop_refuse_rewrite()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OF sensitive_yes_mask ON choice_version "
            "BEGIN SELECT RAISE(ABORT, 'choice_version is written once: change refused'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {TRIGGER} ON choice_version")
    else:
        op.execute(f"DROP TRIGGER {TRIGGER}")
    op.execute('ALTER TABLE choice_version DROP COLUMN sensitive_yes_mask')  # keeps the triggers, as above
