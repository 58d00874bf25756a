"""Proxy appointments: a member lets another member, or a carer who is not a member, decide
for them, once that person accepts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, text
from sqlmodel import Field, SQLModel

from coop.types import UTCDateTime


class ProxyAppointment(SQLModel, table=True):
    """``proxy_member_id`` (or the carer ``proxy_carer_id``: exactly one is set) decides for
    ``principal_id`` on the purposes in ``purposes_mask`` from ``accepted_at`` (the proxy's
    yes; appointed at ``valid_from``) until ``valid_until`` or revocation, whichever comes
    first. A proxy who declines ends it unaccepted.

    Only ``accepted_at`` and ``revoked_at`` may change, each once (database triggers)."""

    __tablename__ = "proxy_appointment"
    __table_args__ = (CheckConstraint("(proxy_member_id IS NULL) <> (proxy_carer_id IS NULL)", name="one_proxy"),)

    id: int | None = Field(default=None, primary_key=True)
    principal_id: int = Field(sa_column=Column(Integer, ForeignKey("member.id"), nullable=False, index=True))
    proxy_member_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("member.id"), nullable=True, index=True)
    )
    proxy_carer_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("carer.id"), nullable=True, index=True)
    )
    """A carer who is not a member (see :mod:`coop.carers`)."""
    purposes_mask: int = Field(sa_column=Column(Integer, nullable=False))
    voting: bool = Field(sa_column=Column(Boolean, nullable=False))
    valid_from: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    valid_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    appointed_by: str = Field(sa_column=Column(String(40), nullable=False))
    needs_acceptance: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    """False only for appointments made before proxies accepted them (in force when made)."""
    accepted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    show_name: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    """Whether the principal lets the proxy see their name; otherwise their member number only."""
