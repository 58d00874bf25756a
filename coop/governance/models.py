"""Versions of the governing documents (append-only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Integer, String, Text, UniqueConstraint
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
