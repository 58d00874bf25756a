"""Data permits granted by the HDAB, as registered with the cooperative (Art. 68)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
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
    on_behalf_of_public_body: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )


class Manifest(SQLModel, table=True):
    """The cohort of a permit: pseudonyms of the members eligible at its approval (Art. 71(3))."""

    __tablename__ = "manifest"

    id: int | None = Field(default=None, primary_key=True)
    permit_id: int = Field(sa_column=Column(Integer, ForeignKey("permit.id"), nullable=False, index=True))
    as_of: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    size: int = Field(sa_column=Column(Integer, nullable=False))
    root_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    created_by: str = Field(sa_column=Column(String(40), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ledger_seq: int = Field(sa_column=Column(Integer, nullable=False))


class ManifestEntry(SQLModel, table=True):
    """One member in a manifest, under the permit's pseudonym for them, keyed in the order
    the manifest is written and read: by pseudonym. Which manifests hold a member is
    :class:`ManifestMember`."""

    __tablename__ = "manifest_entry"

    # No foreign keys: the member ids come from the members' choice versions, and the entries
    # from their manifest, in the same transaction; on PostgreSQL a foreign key checks each of
    # millions of rows by a trigger (and one to member would lock every member row a manifest
    # names). `coop ledger verify` reports entries without their manifest (migration 0029).
    manifest_id: int = Field(sa_column=Column(Integer, primary_key=True))
    pseudonym: bytes = Field(sa_column=Column(LargeBinary(32), primary_key=True))
    member_id: int = Field(sa_column=Column(Integer, nullable=False))


class ManifestMember(SQLModel, table=True):
    """The manifests that hold a member (their data-use view, statements, dividends), written
    with the manifest in member order. Its rows are the entries' (member_id, manifest_id),
    which `coop ledger verify` compares (migration 0030)."""

    __tablename__ = "manifest_member"

    member_id: int = Field(sa_column=Column(Integer, primary_key=True))
    manifest_id: int = Field(sa_column=Column(Integer, primary_key=True))


class ManifestMemberSet(SQLModel, table=True):
    """The manifest's members as a bit set (see :mod:`coop.permits.member_sets`), for work
    over all permits at once such as the yearly distribution."""

    __tablename__ = "manifest_member_set"

    manifest_id: int = Field(sa_column=Column(Integer, ForeignKey("manifest.id"), primary_key=True))
    bits: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ManifestCheck(SQLModel, table=True):
    """Whether a manifest holds members who were not eligible at its permit's approval,
    checked once, when an extraction with it is first reported. Both sides are fixed (the
    manifest never changes; choices as of a past moment never change), so the answer is
    too, and compliance reads it instead of recomputing a cohort per permit."""

    __tablename__ = "manifest_check"

    manifest_id: int = Field(sa_column=Column(Integer, ForeignKey("manifest.id"), primary_key=True))
    ineligible: int = Field(sa_column=Column(Integer, nullable=False))
    checked_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class UsageEvent(SQLModel, table=True):
    """What the HDAB or a data holder reports having done under a permit (append-only)."""

    __tablename__ = "usage_event"
    __table_args__ = (UniqueConstraint("permit_id", "client_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    permit_id: int = Field(sa_column=Column(Integer, ForeignKey("permit.id"), nullable=False, index=True))
    kind: str = Field(sa_column=Column(String(12), nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    manifest_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("manifest.id"), nullable=True))
    records: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    description: str = Field(sa_column=Column(Text, nullable=False))
    client_ref: str | None = Field(default=None, sa_column=Column(String(80), nullable=True))
    reported_by: str = Field(sa_column=Column(String(40), nullable=False))
    reported_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Result(SQLModel, table=True):
    """What came of a permit: the flow back to society (append-only)."""

    __tablename__ = "result"

    id: int | None = Field(default=None, primary_key=True)
    permit_id: int = Field(sa_column=Column(Integer, ForeignKey("permit.id"), nullable=False, index=True))
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    title: str = Field(sa_column=Column(String(500), nullable=False))
    url: str = Field(sa_column=Column(String(2000), nullable=False))
    published_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    open_access: bool = Field(sa_column=Column(Boolean, nullable=False))
    registered_by: str = Field(sa_column=Column(String(40), nullable=False))
    registered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
