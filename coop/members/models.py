"""Members of the cooperative and their invitations."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from coop.i18n import Language as Language  # a member's language is one of the cooperative's
from coop.mail.models import ERASED_ADDRESS
from coop.types import ID_MAX, UTCDateTime


class MemberStatus(StrEnum):
    active = "active"
    left = "left"


def member_number(member_id: int) -> str:
    """The number a member knows themselves by, derived from the id: ``M-000001``."""
    return f"M-{member_id:06d}"


_NUMBER = re.compile(r"M-(\d{1,10})", re.ASCII)


def parse_member_number(text: str) -> int | None:
    """The id in a member number, or None when the text is not one: numbers beyond the ids
    a member can have name nobody (and must not reach the database)."""
    found = _NUMBER.fullmatch(text.strip().upper())
    if found is None:
        return None
    number = int(found[1])
    return number if 1 <= number <= ID_MAX else None


class Member(SQLModel, table=True):
    __tablename__ = "member"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(200), nullable=False))
    email: str = Field(sa_column=Column(String(320), nullable=False, unique=True))
    language: str = Field(sa_column=Column(String(2), nullable=False))
    status: str = Field(sa_column=Column(String(10), nullable=False, index=True))
    admitted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    left_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    external_ref: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    """The member's number in the membership administration, when admitted from its export."""
    erasure_requested_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    """When the former member asked to erase now what the books do not need (:mod:`coop.members.erasure`)."""
    contact_erased_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    """When their email address and login were erased: ``email`` holds :func:`erased_email` then."""
    name_erased_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    """When their name was erased: ``name`` is empty then."""

    __table_args__ = (Index("uq_member_external_ref", "external_ref", unique=True),)

    @property
    def number(self) -> str:
        assert self.id is not None
        return member_number(self.id)

    @property
    def shown_name(self) -> str | None:
        """The name, or None once erased (pages say "erased" then, never show a placeholder)."""
        return None if self.name_erased_at is not None else self.name

    @property
    def shown_email(self) -> str | None:
        """The email address, or None once erased."""
        return None if self.contact_erased_at is not None else self.email


def erased_email(member_id: int) -> str:
    """What an erased member's ``email`` holds: unique (the column is), and never an address
    (no ``@``), so no message and no login can reach anyone with it."""
    return f"{ERASED_ADDRESS}{member_id}"


class Invitation(SQLModel, table=True):
    """A one-time, expiring invitation to set a password; only its hash is stored."""

    __tablename__ = "member_invitation"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(sa_column=Column(Integer, ForeignKey("member.id"), nullable=False, index=True))
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class EmailChange(SQLModel, table=True):
    """A member's new email address waiting for its single-use, short-lived link (sent to the
    new address) to be followed; only the link's hash is kept. A newer request withdraws the
    older one.

    Operational state like a password reset: the member's email changes only when the link
    is followed, and that change is the ledger event (``member.email-changed``, without the
    address). ``requested_by`` is the ledger's name of whoever asked (the member or the board)."""

    __tablename__ = "member_email_change"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(sa_column=Column(Integer, ForeignKey("member.id"), nullable=False, index=True))
    new_email: str = Field(sa_column=Column(String(320), nullable=False))
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    requested_by: str = Field(sa_column=Column(String(40), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
