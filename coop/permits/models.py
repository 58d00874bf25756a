"""Data permits granted by the HDAB, as registered with the cooperative (Art. 68)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Text
from sqlmodel import Field, SQLModel

from coop.types import UTCDateTime


class Permit(SQLModel, table=True):
    __tablename__ = "permit"

    id: int | None = Field(default=None, primary_key=True)
    permit_number: str = Field(sa_column=Column(String(80), nullable=False, unique=True))
    applicant: str = Field(sa_column=Column(String(200), nullable=False))
    user_type: str = Field(sa_column=Column(String(20), nullable=False))
    purposes_mask: int = Field(sa_column=Column(Integer, nullable=False))
    categories_mask: int = Field(sa_column=Column(Integer, nullable=False))
    authorised_persons: str = Field(sa_column=Column(Text, nullable=False))
    conditions: str = Field(sa_column=Column(Text, nullable=False))
    data_holders: str = Field(sa_column=Column(Text, nullable=False), description="canonical JSON list of org names")
    approved_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    valid_from: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    valid_until: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    fee_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    benefit_share_pct: int = Field(sa_column=Column(Integer, nullable=False))
    consultation_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("consultation.id"), nullable=True)
    )
    registered_by: str = Field(sa_column=Column(String(40), nullable=False))
    registered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    extended_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    revocation_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
