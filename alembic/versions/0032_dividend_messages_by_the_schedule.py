"""dividend messages written by the mail worker's schedule, not by the commit

A distribution's commit used to write a dividend message per member in its own transaction;
the mail worker's scheduled pass now writes them afterwards, once per distribution, recorded
as a ``mail_run`` of kind ``dividend`` keyed ``distribution:<id>``. The distributions
committed before this revision told their members already: each gets its run here (with the
number of dividend messages its commit wrote), so the pass does not tell them twice.

Revision ID: 0032
Revises: 0031
Create Date: 2026-11-28 13:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO mail_run (kind, key, through_seq, messages, created_at) "
        "SELECT 'dividend', 'distribution:' || d.id, NULL, "
        "(SELECT count(*) FROM mail_outbox o WHERE o.kind = 'dividend' AND o.created_at = d.committed_at), "
        "d.committed_at FROM distribution d WHERE d.committed_at IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM mail_run r WHERE r.kind = 'dividend' AND r.key = 'distribution:' || d.id) "
        "ORDER BY d.id"
    )


def downgrade() -> None:
    op.execute("DELETE FROM mail_run WHERE kind = 'dividend'")
