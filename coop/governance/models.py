"""Versions of the governing documents (append-only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from coop.types import UTCDateTime


class GovernanceDocument(SQLModel, table=True):
    """One version of the mandate or the benefit policy, in force from ``effective_from``
    until the next version of the same kind."""

    __tablename__ = "governance_document"
    __table_args__ = (
        UniqueConstraint("kind", "version"),
        Index("ix_governance_document_kind_effective_from", "kind", "effective_from"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    effective_from: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    source: str = Field(sa_column=Column(String(40), nullable=False))


class Proposal(SQLModel, table=True):
    """A new version of the mandate or the benefit policy, put to the members' vote."""

    __tablename__ = "proposal"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_column=Column(String(200), nullable=False))
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    opens_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closes_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    quorum_pct: int = Field(sa_column=Column(Integer, nullable=False))
    majority_pct: int = Field(sa_column=Column(Integer, nullable=False))
    created_by: str = Field(sa_column=Column(String(40), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    outcome: str | None = Field(default=None, sa_column=Column(String(10), nullable=True))
    electorate: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    yes: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    no: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    abstain: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    adopted_version: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


class Vote(SQLModel, table=True):
    """A member's vote on a proposal; it may change until the window closes."""

    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("proposal_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(sa_column=Column(Integer, ForeignKey("proposal.id"), nullable=False))
    member_id: int = Field(sa_column=Column(Integer, ForeignKey("member.id"), nullable=False))
    vote: str = Field(sa_column=Column(String(10), nullable=False))
    cast_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    cast_by: str = Field(sa_column=Column(String(40), nullable=False))
    proxy_member_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("member.id"), nullable=True))
    proxy_carer_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("carer.id"), nullable=True))
    """The carer (not a member) who cast it for the member, if any."""
