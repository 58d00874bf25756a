"""The access log's tables: one row per read of members' data by someone other than the member
(append-only, proven by its ``access.recorded`` event), and for a read of a list the members it
showed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from coop.types import UTCDateTime


class ReaderRole(StrEnum):
    """In which role someone read: never who they are as a person."""

    board = "board"
    proxy = "proxy"
    """A member the member appointed as proxy."""
    carer = "carer"
    """A proxy who is not a member."""
    hdab = "hdab"
    data_holder = "data-holder"
    auditor = "auditor"


class AccessPurpose(StrEnum):
    """Why they read: a fixed list, each explained to the member in the portal."""

    member_administration = "member-administration"
    """The board keeps the membership: admitting, helping on the member's request, correcting."""
    acting_as_proxy = "acting-as-proxy"
    """A proxy or carer deciding for the member, within their appointment."""
    statement = "statement"
    """The board produced the member's yearly statement (for instance to send it on paper)."""
    manifest_download = "manifest-download"
    """The member's pseudonym left the cooperative in a permit's manifest."""


class AccessWhat(StrEnum):
    """What was read."""

    member_page = "member-page"
    member_details = "member-details"
    member_list = "member-list"
    undeliverable_mail = "undeliverable-mail"
    """The board's list of messages that could not be delivered (address and member number)."""
    appointment = "appointment"
    choices = "choices"
    history = "history"
    fhir_consent = "fhir-consent"
    decision = "decision"
    data_use = "data-use"
    votes = "votes"
    statement = "statement"
    manifest = "manifest"
    access_log = "access-log"
    export = "export"
    """Everything kept about the member (their data export, GDPR Art. 15 and 20), on their request."""


class AccessRecord(SQLModel, table=True):
    """One read of one member's data (``member_id``), of a list of members (the rows of
    :class:`AccessRecordMember`), or of a manifest (``manifest_id``: its entries say who is in
    it). Written once, never changed: the database refuses UPDATE and DELETE."""

    __tablename__ = "access_record"
    __table_args__ = (Index("ix_access_record_member_id_id", "member_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    role: str = Field(sa_column=Column(String(20), nullable=False))
    reader: str = Field(sa_column=Column(String(40), nullable=False))
    """The reader's name in the ledger of record (``user:3``, ``key:2``): never a personal name."""
    purpose: str = Field(sa_column=Column(String(40), nullable=False))
    what: str = Field(sa_column=Column(String(40), nullable=False))
    member_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("member.id"), nullable=True))
    manifest_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("manifest.id"), nullable=True, index=True)
    )


class AccessRecordMember(SQLModel, table=True):
    """A member shown by a read of a list (a page of the board's member list)."""

    __tablename__ = "access_record_member"
    __table_args__ = (Index("ix_access_record_member_member_id", "member_id", "record_id"),)

    record_id: int = Field(sa_column=Column(Integer, ForeignKey("access_record.id"), primary_key=True))
    member_id: int = Field(sa_column=Column(Integer, ForeignKey("member.id"), primary_key=True))


def recorded_payload(row: AccessRecord, members: list[int]) -> dict[str, Any]:
    """The payload of ``access.recorded``: ids and codes only (events are public), the listed
    members in ascending order."""
    return {
        "manifest_id": row.manifest_id,
        "member_id": row.member_id,
        "members": sorted(members),
        "purpose": row.purpose,
        "role": row.role,
        "what": row.what,
    }
