"""Carers: people who are not members (a parent, guardian or carer) whom a member appointed
as proxy. A carer has a login of their own for acting as proxy, and no membership rights."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from coop.types import UTCDateTime


class Carer(SQLModel, table=True):
    """A carer, known to the cooperative by name and email (personal data, which may be
    corrected and are kept out of the ledger of record, as a member's are) and the language
    of their messages. One carer per email address."""

    __tablename__ = "carer"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(200), nullable=False))
    email: str = Field(sa_column=Column(String(320), nullable=False, unique=True))
    language: str = Field(sa_column=Column(String(2), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


def carer_label(carer_id: int) -> str:
    """How a carer is named where no name may be shown: ``C-000001``."""
    return f"C-{carer_id:06d}"
