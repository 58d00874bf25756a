"""Versions of each member's choices: append-only, one interval each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from coop.types import UTCDateTime


class ChoiceVersion(SQLModel, table=True):
    """What a member had chosen from ``valid_from`` until ``valid_to`` (open: still so).

    Nothing in a version changes after it is written; the database allows only filling in
    ``valid_to`` once, when the next version starts, and at most one version of a member is
    open. Admission writes version 1 (all preferences follow the mandate, no yes to sensitive
    data); leaving writes a version with ``is_member`` false.
    """

    __tablename__ = "choice_version"
    __table_args__ = (
        UniqueConstraint("member_id", "version"),
        Index("ix_choice_version_member_id_valid_from", "member_id", "valid_from"),
        Index("ix_choice_version_valid_to", "valid_to"),
        # a member has one open version at most; the services find it through this index
        Index(
            "uq_choice_version_open_member_id",
            "member_id",
            unique=True,
            sqlite_where=text("valid_to IS NULL"),
            postgresql_where=text("valid_to IS NULL"),
        ),
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


class MemberProfile(SQLModel, table=True):
    """A member's choices and proxies as counted in :class:`ChoiceProfile` (derived, outside the
    record: see :mod:`coop.choices.profiles`): their open version, and per purpose the member
    whose appointment was in force at ``counted_at`` (``proxies``: ``"research=12;"``, in the
    vocabulary's order; empty when none). ``counted_at`` is no earlier than anything in the
    member's own rows, so the state holds until their next change or ``expires_at``, the
    soonest end of those appointments."""

    __tablename__ = "choice_member_profile"

    member_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    """The member (no foreign key: derived rows, rebuilt in bulk, where a check per row would cost most)."""
    is_member: bool = Field(sa_column=Column(Boolean, nullable=False))
    opt_out: bool = Field(sa_column=Column(Boolean, nullable=False))
    excluded_mask: int = Field(sa_column=Column(Integer, nullable=False))
    preference_mask: int = Field(sa_column=Column(BigInteger, nullable=False))
    sensitive_yes_mask: int = Field(sa_column=Column(Integer, nullable=False))
    proxies: str = Field(sa_column=Column(String(400), nullable=False))
    counted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True))


class ChoiceProfile(SQLModel, table=True):
    """How many members share one profile as one user type sees it: rules 2-4, the 2-bit codes
    of every purpose for that user type (``codes``: purpose position ``i`` at bits ``2i``),
    the yes to sensitive categories, and the proxies when a code sends a purpose to one.
    Members who left or opted out count under one profile each, whatever else they chose."""

    __tablename__ = "choice_profile"
    __table_args__ = (
        UniqueConstraint(
            "user_type",
            "is_member",
            "opt_out",
            "excluded_mask",
            "codes",
            "sensitive_yes_mask",
            "proxies",
            name="uq_choice_profile_key",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_type: str = Field(sa_column=Column(String(20), nullable=False))
    is_member: bool = Field(sa_column=Column(Boolean, nullable=False))
    opt_out: bool = Field(sa_column=Column(Boolean, nullable=False))
    excluded_mask: int = Field(sa_column=Column(Integer, nullable=False))
    codes: int = Field(sa_column=Column(Integer, nullable=False))
    sensitive_yes_mask: int = Field(sa_column=Column(Integer, nullable=False))
    proxies: str = Field(sa_column=Column(String(400), nullable=False))
    members: int = Field(sa_column=Column(Integer, nullable=False))


class ProfileWatermark(SQLModel, table=True):
    """One row: how far the profiles are counted. ``counted_to``: the newest ``counted_at``;
    the highest version and appointment ids counted, so rows loaded around the services
    (straight into the tables) are noticed and the counts not trusted until rebuilt."""

    __tablename__ = "choice_profile_watermark"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    counted_to: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_version_id: int = Field(sa_column=Column(Integer, nullable=False))
    last_appointment_id: int = Field(sa_column=Column(Integer, nullable=False))
