"""Distributions: drafts and their figures, then committed to the books (write-once)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Column, Date, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from coop.types import UTCDateTime


class Distribution(SQLModel, table=True):
    __tablename__ = "distribution"

    id: int | None = Field(default=None, primary_key=True)
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    policy_version: int = Field(sa_column=Column(Integer, nullable=False))
    digest: str = Field(sa_column=Column(String(64), nullable=False))
    net_income_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    reserve_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    solidarity_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    members_pool_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    unclaimed_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    donated_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_by: str = Field(sa_column=Column(String(40), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    committed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class DistributionPermit(SQLModel, table=True):
    __tablename__ = "distribution_permit"

    distribution_id: int = Field(sa_column=Column(Integer, ForeignKey("distribution.id"), primary_key=True))
    permit_id: int = Field(sa_column=Column(Integer, ForeignKey("permit.id"), primary_key=True))
    revenue_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    pool_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    members: int = Field(sa_column=Column(Integer, nullable=False))


class DistributionShare(SQLModel, table=True):
    """A member's share from one permit in one distribution."""

    __tablename__ = "distribution_share"

    member_id: int = Field(sa_column=Column(Integer, primary_key=True))
    distribution_id: int = Field(sa_column=Column(Integer, ForeignKey("distribution.id"), primary_key=True))
    permit_id: int = Field(sa_column=Column(Integer, primary_key=True))
    cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    donated: bool = Field(sa_column=Column(Boolean, nullable=False))
