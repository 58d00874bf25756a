"""Versions of each member's choices: append-only, one interval each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from coop.types import UTCDateTime


class ChoiceVersion(SQLModel, table=True):
    """What a member had chosen from ``valid_from`` until ``valid_to`` (open: still so).

    Nothing in a version changes after it is written; the database allows only filling in
    ``valid_to`` once, when the next version starts. Admission writes version 1 (all
    preferences follow the mandate, no yes to sensitive data); leaving writes a version with
    ``is_member`` false.
    """

    __tablename__ = "choice_version"
    __table_args__ = (
        UniqueConstraint("member_id", "version"),
        Index("ix_choice_version_member_id_valid_from", "member_id", "valid_from"),
        Index("ix_choice_version_valid_to", "valid_to"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(sa_column=Column(Integer, ForeignKey("member.id"), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    valid_from: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    valid_to: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    is_member: bool = Field(sa_column=Column(Boolean, nullable=False))
    opt_out: bool = Field(sa_column=Column(Boolean, nullable=False))
    excluded_mask: int = Field(sa_column=Column(Integer, nullable=False))
    preference_mask: int = Field(sa_column=Column(BigInteger, nullable=False))
    donate_dividend: bool = Field(sa_column=Column(Boolean, nullable=False))
    sensitive_yes_mask: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    """The sensitive categories (Art. 51(4)) the member gave their own explicit yes for, one bit each."""
    recorded_by: str = Field(sa_column=Column(String(40), nullable=False))
    acting_proxy_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("member.id"), nullable=True))
    acting_carer_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("carer.id"), nullable=True))
    """The carer (not a member) who made this change for the member, if any."""
