"""The witnesses' tables: their cosignatures on the log's checkpoints, and how each of them
is doing (see :mod:`coop.record.witnesses`).

Both are outside the ledger of record (``OUTSIDE_THE_RECORD``): a cosignature is a signature
by someone else over a checkpoint the log already signed, and it proves itself with the
witness's key; neither changes anything the cooperative decides or owes. The cosignatures
are append-only all the same (the database refuses UPDATE and DELETE), so a cosignature once
received is never lost or rewritten; the state is updated in place at every attempt.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, LargeBinary, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from coop.types import UTCDateTime


class WitnessCosignature(SQLModel, table=True):
    """One witness's cosignature line over the checkpoint of ``tree_size`` events with this root."""

    __tablename__ = "witness_cosignature"
    __table_args__ = (UniqueConstraint("witness", "tree_size", "root_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    witness: str = Field(sa_column=Column(String(80), nullable=False))
    tree_size: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    root_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    cosigned_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    """The witness's own time in the cosignature."""
    line: str = Field(sa_column=Column(Text, nullable=False))
    """The signature line as the witness sent it, ``— <name> <base64>``."""
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class WitnessState(SQLModel, table=True):
    """A witness's latest attempt: the size it last cosigned and when, the last error and when."""

    __tablename__ = "witness_state"

    witness: str = Field(sa_column=Column(String(80), primary_key=True))
    cosigned_size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    """The size this witness last cosigned as we know it: the ``old`` size of the next request."""
    cosigned_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    attempted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """Why the last attempt failed; None when it succeeded."""
    error_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    serious: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    """The last failure says the witness saw a checkpoint of this log that this log does not
    hold (another root for a size, or a size beyond it): a split view, to be looked into."""
