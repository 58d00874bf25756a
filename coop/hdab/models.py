"""Consultations of the collective mandate by the HDAB (write-once records)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Integer, String, Text
from sqlmodel import Field, SQLModel

from coop.types import UTCDateTime


class Consultation(SQLModel, table=True):
    """An application summary the HDAB asked about, and the cooperative's answer."""

    __tablename__ = "consultation"

    id: int | None = Field(default=None, primary_key=True)
    application_ref: str = Field(sa_column=Column(String(100), nullable=False, index=True))
    request: str = Field(sa_column=Column(Text, nullable=False))
    answer: str = Field(sa_column=Column(Text, nullable=False))
    position: str = Field(sa_column=Column(String(12), nullable=False))
    mandate_version: int = Field(sa_column=Column(Integer, nullable=False))
    ledger_seq: int = Field(sa_column=Column(Integer, nullable=False))
    asked_by: str = Field(sa_column=Column(String(40), nullable=False))
    asked_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
