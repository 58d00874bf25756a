"""Tables of the ledger of record: events, the Merkle tree's perfect subtrees, signed heads.

All three are append-only; the migration installs database triggers that refuse UPDATE,
DELETE (and on PostgreSQL, TRUNCATE) on them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, String, Text
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
