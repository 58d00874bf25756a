"""manifest checks

Whether a manifest holds members not eligible at its permit's approval is checked once,
when an extraction with it is first reported, and kept (append-only): compliance views,
the annual report and the public page read it instead of recomputing a cohort per permit.
Manifests used before this revision are checked on the fly until their next extraction.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coop.types


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


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
    op.create_table('manifest_check',
    sa.Column('manifest_id', sa.Integer(), nullable=False),
    sa.Column('ineligible', sa.Integer(), nullable=False),
    sa.Column('checked_at', coop.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifest.id'], name=op.f('fk_manifest_check_manifest_id_manifest')),
    sa.PrimaryKeyConstraint('manifest_id', name=op.f('pk_manifest_check'))
    )
    _append_only('manifest_check')


def downgrade() -> None:
    op.drop_table('manifest_check')
