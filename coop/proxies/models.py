"""Proxy appointments: a member lets another member decide for them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from coop.types import UTCDateTime


class ProxyAppointment(SQLModel, table=True):
    """``proxy_member_id`` decides for ``principal_id`` on the purposes in ``purposes_mask``
    from ``valid_from`` until ``valid_until`` or revocation, whichever comes first.

    Only ``revoked_at`` may change, once (database trigger)."""

    __tablename__ = "proxy_appointment"

    id: int | None = Field(default=None, primary_key=True)
    principal_id: int = Field(sa_column=Column(Integer, ForeignKey("member.id"), nullable=False, index=True))
    proxy_member_id: int = Field(sa_column=Column(Integer, ForeignKey("member.id"), nullable=False, index=True))
    purposes_mask: int = Field(sa_column=Column(Integer, nullable=False))
    voting: bool = Field(sa_column=Column(Boolean, nullable=False))
    valid_from: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    valid_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    appointed_by: str = Field(sa_column=Column(String(40), nullable=False))
