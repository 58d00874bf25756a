"""proxy acceptance: an appointment is in force once the proxy accepts it

``proxy_appointment`` gains three columns:

* ``needs_acceptance``: the appointment waits for the proxy's yes (every appointment made from
  now on); false for the appointments made before, which were in force when made.
* ``accepted_at``: when the proxy accepted (``proxy.accepted``), written once; for the earlier
  appointments, their ``valid_from``. An appointment holds from ``accepted_at`` on.
* ``show_name``: whether the principal lets the proxy see their name (else only the member
  number).

The write-once guard of migration 0003 is made again over the longer list of frozen columns,
and ``accepted_at``, like ``revoked_at``, may be filled in once.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-27 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coop.types


revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "proxy_appointment"
BEFORE = "id, principal_id, proxy_member_id, purposes_mask, voting, valid_from, valid_until, appointed_by"
AFTER = BEFORE + ", needs_acceptance, show_name"


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _refuse() -> str:
    if _postgres():
        return "EXECUTE FUNCTION coop_refuse_rewrite()"
    return f"BEGIN SELECT RAISE(ABORT, '{TABLE} is written once: change refused'); END"


def _drop(name: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {TABLE}" if _postgres() else ""))


def _frozen(columns: str) -> None:
    each = "FOR EACH ROW " if _postgres() else ""
    op.execute(f"CREATE TRIGGER {TABLE}_frozen BEFORE UPDATE OF {columns} ON {TABLE} {each}{_refuse()}")


def _once(name: str, column: str) -> None:
    """``column`` may be filled in once: a change once it holds a value is refused."""
    when = f"FOR EACH ROW WHEN (OLD.{column} IS NOT NULL)" if _postgres() else f"WHEN OLD.{column} IS NOT NULL"
    op.execute(f"CREATE TRIGGER {name} BEFORE UPDATE OF {column} ON {TABLE} {when} {_refuse()}")


def upgrade() -> None:
    op.add_column(TABLE, sa.Column('needs_acceptance', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column(TABLE, sa.Column('accepted_at', coop.types.UTCDateTime(timezone=True), nullable=True))
    op.add_column(TABLE, sa.Column('show_name', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(f"UPDATE {TABLE} SET accepted_at = valid_from")
    _drop(f"{TABLE}_frozen")
    _frozen(AFTER)
    _once(f"{TABLE}_accepted_once", "accepted_at")


def downgrade() -> None:
    _drop(f"{TABLE}_accepted_once")
    _drop(f"{TABLE}_frozen")
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_column('show_name')
        batch_op.drop_column('accepted_at')
        batch_op.drop_column('needs_acceptance')
    _frozen(BEFORE)
    if not _postgres():  # the table was made again without its triggers: those of migration 0003
        _drop(f"{TABLE}_no_delete")
        _drop(f"{TABLE}_closed_once")
        op.execute(f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} {_refuse()}")
        _once(f"{TABLE}_closed_once", "revoked_at")
