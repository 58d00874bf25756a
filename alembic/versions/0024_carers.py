"""carers: proxies who are not members

* ``carer``: a person who is not a member (a parent, guardian or carer) whom a member
  appointed as proxy. Name and email are personal data that may be corrected and are kept
  out of the ledger of record, as the member's are (see 0012 and 0019); the row is never
  deleted, and its id, language and created_at never change.
* ``user_account.carer_id``: the carer's login (role ``carer``); it never changes.
* ``proxy_appointment.proxy_carer_id``: the appointed carer; ``proxy_member_id`` becomes
  nullable and a CHECK keeps exactly one of the two set. SQLite changes a column's
  nullability only by making the table again (batch mode), which loses its triggers: they
  are made again here, over the longer list of frozen columns, as 0023 left them.
* ``choice_version.acting_carer_id`` and ``vote.proxy_carer_id``: the carer who made a
  change or cast a vote for the member. Plain ADD COLUMNs keep those tables' triggers; the
  carer on a choice version never changes, like the rest of the version (a trigger of its
  own), while a vote's may change with the vote until the proposal closes (0012).

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import coop.types
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROXY = "proxy_appointment"
PROXY_FROZEN_BEFORE = (
    "id, principal_id, proxy_member_id, purposes_mask, voting, valid_from, valid_until, appointed_by, "
    "needs_acceptance, show_name"
)
PROXY_FROZEN = PROXY_FROZEN_BEFORE + ", proxy_carer_id"
ONE_PROXY = "(proxy_member_id IS NULL) <> (proxy_carer_id IS NULL)"


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _refuse(table: str) -> str:
    if _postgres():
        return "FOR EACH ROW EXECUTE FUNCTION coop_refuse_rewrite()"
    return f"BEGIN SELECT RAISE(ABORT, '{table} is written once: change refused'); END"


def _drop(table: str, name: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if _postgres() else ""))


def _frozen(table: str, name: str, columns: str) -> None:
    op.execute(f"CREATE TRIGGER {name} BEFORE UPDATE OF {columns} ON {table} {_refuse(table)}")


def _once(table: str, name: str, column: str) -> None:
    """``column`` may be filled in once: a change once it holds a value is refused."""
    when = f"FOR EACH ROW WHEN (OLD.{column} IS NOT NULL)" if _postgres() else f"WHEN OLD.{column} IS NOT NULL"
    refuse = "EXECUTE FUNCTION coop_refuse_rewrite()" if _postgres() else _refuse(table)
    op.execute(f"CREATE TRIGGER {name} BEFORE UPDATE OF {column} ON {table} {when} {refuse}")


def _proxy_triggers(frozen: str) -> None:
    """The triggers of proxy_appointment (0003, 0023) over ``frozen``; on SQLite the table was
    made again without them, so all of them are made again."""
    _drop(PROXY, f"{PROXY}_frozen")
    _frozen(PROXY, f"{PROXY}_frozen", frozen)
    if not _postgres():
        for name in ("no_delete", "closed_once", "accepted_once"):
            _drop(PROXY, f"{PROXY}_{name}")
        op.execute(f"CREATE TRIGGER {PROXY}_no_delete BEFORE DELETE ON {PROXY} {_refuse(PROXY)}")
        _once(PROXY, f"{PROXY}_closed_once", "revoked_at")
        _once(PROXY, f"{PROXY}_accepted_once", "accepted_at")


def _add_carer_column(table: str, column: str) -> None:
    """A plain ADD COLUMN referring to a carer: the table, and so its triggers, stay (SQLite
    takes the foreign key only inside the column's definition)."""
    fk = f"fk_{table}_{column}_carer"
    if _postgres():
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(fk, table, "carer", [column], ["id"])
    else:
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER CONSTRAINT {fk} REFERENCES carer (id)")


def upgrade() -> None:
    op.create_table(
        "carer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("created_at", coop.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carer")),
        sa.UniqueConstraint("email", name=op.f("uq_carer_email")),
    )
    op.execute(f"CREATE TRIGGER carer_no_delete BEFORE DELETE ON carer {_refuse('carer')}")
    _frozen("carer", "carer_frozen", "id, language, created_at")
    if _postgres():
        op.execute(
            "CREATE TRIGGER carer_no_truncate BEFORE TRUNCATE ON carer "
            "FOR EACH STATEMENT EXECUTE FUNCTION coop_refuse_rewrite()"
        )
    # plain ADD COLUMNs: the tables, and so their triggers, stay
    _add_carer_column("user_account", "carer_id")
    op.create_index("uq_user_account_carer_id", "user_account", ["carer_id"], unique=True)
    _frozen("user_account", "user_account_carer_frozen", "carer_id")
    _add_carer_column("choice_version", "acting_carer_id")
    _frozen("choice_version", "choice_version_carer_frozen", "acting_carer_id")
    _add_carer_column("vote", "proxy_carer_id")
    with op.batch_alter_table(PROXY, schema=None) as batch_op:
        batch_op.add_column(sa.Column("proxy_carer_id", sa.Integer(), nullable=True))
        batch_op.alter_column("proxy_member_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(batch_op.f("ix_proxy_appointment_proxy_carer_id"), ["proxy_carer_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_proxy_appointment_proxy_carer_id_carer"), "carer", ["proxy_carer_id"], ["id"]
        )
        batch_op.create_check_constraint("one_proxy", ONE_PROXY)
    _proxy_triggers(PROXY_FROZEN)


def downgrade() -> None:
    _drop(PROXY, f"{PROXY}_frozen")  # it names proxy_carer_id; made again below without it
    with op.batch_alter_table(PROXY, schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_proxy_appointment_one_proxy"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_proxy_appointment_proxy_carer_id_carer"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_proxy_appointment_proxy_carer_id"))
        batch_op.alter_column("proxy_member_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("proxy_carer_id")
    _proxy_triggers(PROXY_FROZEN_BEFORE)
    for table, name in (
        ("vote", "proxy_carer_id"),
        ("choice_version", "acting_carer_id"),
        ("user_account", "carer_id"),
    ):
        _drop(table, f"{table}_carer_frozen")
        if table == "user_account":
            op.drop_index("uq_user_account_carer_id", table_name="user_account")
        if _postgres():
            op.drop_constraint(f"fk_{table}_{name}_carer", table, type_="foreignkey")
            op.drop_column(table, name)
            continue
        # SQLite drops a column of a foreign key only by making the table again, which loses
        # its triggers: they are read first and made again as they were
        triggers = (
            op.get_bind()
            .exec_driver_sql(
                f"SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '{table}'"  # noqa: S608
            )
            .scalars()
            .all()
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(name)
        for sql in triggers:
            op.execute(sql)
    for name in ("carer_no_delete", "carer_frozen") + (("carer_no_truncate",) if _postgres() else ()):
        _drop("carer", name)
    op.drop_table("carer")
