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
    rotation_start: int = Field(
        sa_column=Column(Integer, nullable=False),
        description="position among the permit's members (by id) where the leftover cents start",
    )


class DistributionMember(SQLModel, table=True):
    """What one member receives from one distribution, over all permits that used their data
    (how it was derived follows from the distribution's permits and the manifests).

    No foreign keys: the rows are written with their distribution in one transaction and never
    change, and on PostgreSQL a key check per row (a million of them) locks the distribution
    row a million times.
    """

    __tablename__ = "distribution_member"

    member_id: int = Field(sa_column=Column(Integer, primary_key=True))
    distribution_id: int = Field(sa_column=Column(Integer, primary_key=True))
    cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    donated: bool = Field(sa_column=Column(Boolean, nullable=False))
