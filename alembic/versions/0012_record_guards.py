"""record guards: every state table append-only or written once

Members, invitations, logins, API keys, proposals and votes get the triggers their rules
allow, like the other tables of the record:

* member: never deleted; id, language and admitted_at never change; status and left_at
  are filled in once, when the member leaves (name and email may be corrected or erased:
  they are personal data, which the ledger of record does not hold);
* member_invitation: never deleted; only used_at and withdrawn_at are filled in, once each;
* user_account: never deleted; id, role, member_id and created_at never change;
  disabled_at is filled in once (email and password hash may change);
* api_key: never deleted; only revoked_at is filled in, once;
* proposal: never deleted; its terms never change; the tally is filled in once, at close;
* vote: never deleted; a vote may be cast or changed only while its proposal is open.

PostgreSQL also refuses TRUNCATE on them. Accounts of the books gain the sequence number
of the money.accounts-opened event that opened them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


WRITE_ONCE = {
    # table: (columns that never change, {column filled in once: the condition that it is filled})
    "member": ("id, language, admitted_at", {"status, left_at": "OLD.left_at IS NOT NULL"}),
    "member_invitation": (
        "id, member_id, token_hash, created_at, expires_at",
        {"used_at": "OLD.used_at IS NOT NULL", "withdrawn_at": "OLD.withdrawn_at IS NOT NULL"},
    ),
    "user_account": ("id, role, member_id, created_at", {"disabled_at": "OLD.disabled_at IS NOT NULL"}),
    "api_key": ("id, org, role, prefix, secret_hash, created_at", {"revoked_at": "OLD.revoked_at IS NOT NULL"}),
    "proposal": (
        "id, title, kind, body, opens_at, closes_at, quorum_pct, majority_pct, created_by, created_at",
        {"closed_at, outcome, electorate, yes, no, abstain, adopted_version": "OLD.closed_at IS NOT NULL"},
    ),
}


def _write_once(table: str, frozen: str, once: dict[str, str]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        refuse = "EXECUTE FUNCTION coop_refuse_rewrite()"
        op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} FOR EACH ROW {refuse}")
        op.execute(f"CREATE TRIGGER {table}_frozen BEFORE UPDATE OF {frozen} ON {table} FOR EACH ROW {refuse}")
        for n, (columns, filled) in enumerate(once.items()):
            op.execute(
                f"CREATE TRIGGER {table}_once_{n} BEFORE UPDATE OF {columns} ON {table} "
                f"FOR EACH ROW WHEN ({filled}) {refuse}"
            )
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT {refuse}")
    else:
        abort = f"BEGIN SELECT RAISE(ABORT, '{table} is written once: change refused'); END"
        op.execute(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {abort}")
        op.execute(f"CREATE TRIGGER {table}_frozen BEFORE UPDATE OF {frozen} ON {table} {abort}")
        for n, (columns, filled) in enumerate(once.items()):
            op.execute(f"CREATE TRIGGER {table}_once_{n} BEFORE UPDATE OF {columns} ON {table} WHEN {filled} {abort}")


def _vote_guards() -> None:
    """Votes change only while their proposal is open; nothing deletes them."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION coop_vote_while_open() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF (SELECT closed_at FROM proposal WHERE id = NEW.proposal_id) IS NOT NULL THEN
                    RAISE EXCEPTION 'vote: the proposal is closed: % refused', TG_OP
                        USING ERRCODE = 'restrict_violation';
                END IF;
                RETURN NEW;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER vote_while_open BEFORE INSERT OR UPDATE ON vote "
            "FOR EACH ROW EXECUTE FUNCTION coop_vote_while_open()"
        )
        refuse = "EXECUTE FUNCTION coop_refuse_rewrite()"
        op.execute(f"CREATE TRIGGER vote_no_delete BEFORE DELETE ON vote FOR EACH ROW {refuse}")
        op.execute(f"CREATE TRIGGER vote_frozen BEFORE UPDATE OF id, proposal_id, member_id ON vote FOR EACH ROW {refuse}")
        op.execute(f"CREATE TRIGGER vote_no_truncate BEFORE TRUNCATE ON vote FOR EACH STATEMENT {refuse}")
    else:
        closed = "(SELECT closed_at FROM proposal WHERE id = NEW.proposal_id) IS NOT NULL"
        abort = "BEGIN SELECT RAISE(ABORT, 'vote: the proposal is closed: change refused'); END"
        op.execute(f"CREATE TRIGGER vote_insert_while_open BEFORE INSERT ON vote WHEN {closed} {abort}")
        op.execute(f"CREATE TRIGGER vote_update_while_open BEFORE UPDATE ON vote WHEN {closed} {abort}")
        abort = "BEGIN SELECT RAISE(ABORT, 'vote is written once: change refused'); END"
        op.execute(f"CREATE TRIGGER vote_no_delete BEFORE DELETE ON vote {abort}")
        op.execute(f"CREATE TRIGGER vote_frozen BEFORE UPDATE OF id, proposal_id, member_id ON vote {abort}")


def upgrade() -> None:
    # a plain ADD COLUMN: SQLite keeps the table, and with it the append-only triggers
    op.add_column('money_account', sa.Column('ledger_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
    for table, (frozen, once) in WRITE_ONCE.items():
        _write_once(table, frozen, once)
    _vote_guards()


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for table, (_, once) in WRITE_ONCE.items():
        for trigger in ["no_delete", "frozen", *(f"once_{n}" for n in range(len(once)))]:
            op.execute(f"DROP TRIGGER {table}_{trigger} ON {table}" if pg else f"DROP TRIGGER {table}_{trigger}")
        if pg:
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
    if pg:
        for trigger in ("vote_while_open", "vote_no_delete", "vote_frozen", "vote_no_truncate"):
            op.execute(f"DROP TRIGGER {trigger} ON vote")
        op.execute("DROP FUNCTION coop_vote_while_open()")
    else:
        for trigger in ("vote_insert_while_open", "vote_update_while_open", "vote_no_delete", "vote_frozen"):
            op.execute(f"DROP TRIGGER {trigger}")
    # a plain DROP COLUMN (SQLite 3.35+): rebuilding the table would lose its triggers
    op.execute("ALTER TABLE money_account DROP COLUMN ledger_seq")
