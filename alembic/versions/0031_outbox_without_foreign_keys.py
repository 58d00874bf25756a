"""the outbox without foreign keys to its member and shared values

A distribution writes a dividend message per member (17 million for the nation) in the
transaction that commits it, by one INSERT ... SELECT from the members' rows. On PostgreSQL
the foreign key from ``mail_outbox.member_id`` to ``member`` checked every one of those rows
by a trigger that locks the member's row again (and so writes to every member's page), and
the one to ``mail_shared`` ran a trigger per row too, for a column a distribution leaves
empty: together more than the cost of writing the rows. What they guarded stays true: a
member is never deleted (an erasure changes the row, and the outbox withdraws that member's
messages); shared values are never deleted and are written just before the messages that
name them, in their transaction; messages are written only from a member's row or by a
service that holds it. The outbox is operational state, not the record: no event and no
reconciliation depend on these keys.

Revision ID: 0031
Revises: 0030
Create Date: 2026-11-28 01:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "mail_outbox"
MEMBER = "fk_mail_outbox_member_id_member"
SHARED = "fk_mail_outbox_shared_id_mail_shared"


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(MEMBER, type_="foreignkey")
        batch_op.drop_constraint(SHARED, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_foreign_key(MEMBER, "member", ["member_id"], ["id"])
        batch_op.create_foreign_key(SHARED, "mail_shared", ["shared_id"], ["id"])
