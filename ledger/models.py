"""Tables of the ledger of record (events, the Merkle tree's perfect subtrees, signed heads)
and of the double-entry books (accounts, entries, postings).

All are append-only; the migrations install database triggers that refuse UPDATE, DELETE
(and on PostgreSQL, TRUNCATE) on them.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

# One naming convention for every constraint in the shared metadata (cooperative tables too),
# set here because this is the lowest layer that defines tables.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

STORED_FROM_LEVEL = 4

# SQLite only aliases the rowid for exactly INTEGER PRIMARY KEY.
BIGINT = BigInteger().with_variant(Integer(), "sqlite")


class LedgerEvent(SQLModel, table=True):
    """One event: a leaf of the tree. ``seq`` starts at 1; leaf index is ``seq - 1``."""

    __tablename__ = "ledger_event"

    seq: int = Field(sa_column=Column(BIGINT, primary_key=True, autoincrement=False))
    recorded_at: str = Field(sa_column=Column(String(40), nullable=False))
    type: str = Field(sa_column=Column(String(80), nullable=False, index=True))
    actor: str = Field(sa_column=Column(String(120), nullable=False))
    subject: str = Field(sa_column=Column(String(120), nullable=False, index=True))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class LedgerNode(SQLModel, table=True):
    """The hash of a perfect subtree ``(level, idx)`` of at least ``2**STORED_FROM_LEVEL``
    leaves, kept so proofs never read the log. Smaller subtrees are recomputed from the
    leaf hashes of at most that many events."""

    __tablename__ = "ledger_node"

    level: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class LedgerTreeHead(SQLModel, table=True):
    """A signed tree head: the root over the first ``tree_size`` events, signed with Ed25519."""

    __tablename__ = "ledger_tree_head"

    tree_size: int = Field(sa_column=Column(BIGINT, primary_key=True, autoincrement=False))
    root_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    signed_at: str = Field(sa_column=Column(String(40), nullable=False))
    key_id: str = Field(sa_column=Column(String(64), nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary(64), nullable=False))


class MoneyAccount(SQLModel, table=True):
    """An account of the double-entry books, in euro cents."""

    __tablename__ = "money_account"

    code: str = Field(sa_column=Column(String(120), primary_key=True))
    kind: str = Field(sa_column=Column(String(10), nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    no_negative: bool = Field(sa_column=Column(Boolean, nullable=False))
    ledger_seq: int | None = Field(
        default=None,
        sa_column=Column(BIGINT, nullable=True),
        description="the money.accounts-opened event that opened it (empty for accounts opened before it existed)",
    )


class MoneyEntry(SQLModel, table=True):
    """A balanced entry. Its id is the client's idempotency key."""

    __tablename__ = "money_entry"

    id: str = Field(sa_column=Column(String(80), primary_key=True))
    booked_on: date = Field(sa_column=Column(Date, nullable=False, index=True))
    description: str = Field(sa_column=Column(String(500), nullable=False))
    ledger_seq: int = Field(sa_column=Column(BIGINT, nullable=False))


class MoneyPosting(SQLModel, table=True):
    """One line of an entry: a signed amount on an account (debit positive, credit negative).

    No foreign keys to the entry or the account: :func:`ledger.books.post` checks both in the
    transaction that writes the postings, the three tables refuse updates and deletes, and
    ``coop ledger verify`` checks that every posting has its entry and account and every
    entry balances. On PostgreSQL a foreign key check locks the referenced row once per
    posting, which made a closing entry for a million members take minutes.
    """

    __tablename__ = "money_posting"
    __table_args__ = (Index("ix_money_posting_account_amount_cents", "account", "amount_cents"),)  # covers balances

    entry_id: str = Field(sa_column=Column(String(80), primary_key=True))
    line: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    account: str = Field(sa_column=Column(String(120), nullable=False))
    amount_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
