"""Login accounts (members and board users) and organisations' API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from coop.types import UTCDateTime


class UserAccount(SQLModel, table=True):
    """A person who logs in with email and password: a member, or a board user."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=Column(String(320), nullable=False, unique=True))
    password_hash: str = Field(sa_column=Column(String(255), nullable=False))
    role: str = Field(sa_column=Column(String(20), nullable=False))
    member_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("member.id"), nullable=True, unique=True)
    )
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    disabled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class ApiKey(SQLModel, table=True):
    """An organisation's key. The secret is shown once; only its SHA-256 is kept."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    org: str = Field(sa_column=Column(String(200), nullable=False))
    role: str = Field(sa_column=Column(String(20), nullable=False))
    prefix: str = Field(sa_column=Column(String(16), nullable=False, unique=True))
    secret_hash: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
