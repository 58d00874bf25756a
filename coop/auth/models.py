"""Login accounts (members and board users), organisations' API keys, and the counts of
failed logins that throttle guessing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from coop.types import UTCDateTime


class UserAccount(SQLModel, table=True):
    """A person who logs in with email and password: a member, a carer, or a board user."""

    __tablename__ = "user_account"
    __table_args__ = (Index("uq_user_account_carer_id", "carer_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=Column(String(320), nullable=False, unique=True))
    password_hash: str = Field(sa_column=Column(String(255), nullable=False))
    role: str = Field(sa_column=Column(String(20), nullable=False))
    member_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("member.id"), nullable=True, unique=True)
    )
    carer_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("carer.id"), nullable=True))
    """A carer's login (role ``carer``): they act as proxy, without membership rights."""
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    disabled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    token_generation: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    """Login tokens carry the generation they were issued in; raising it (logout, a new
    password, leaving) ends every token issued before."""


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


class LoginFailures(SQLModel, table=True):
    """Recent failed logins for one throttling key (an account, an account from one client
    address, or one client address), so that every serving process sees the same counts.

    Operational state, not the cooperative's record: no ledger event is written for it,
    rows are updated in place and deleted once forgotten. The key is kept only as a SHA-256,
    so the table holds no email or network address."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_last_failed_at", "last_failed_at"),)

    key_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    failures: int = Field(sa_column=Column(Integer, nullable=False))
    last_failed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class PasswordReset(SQLModel, table=True):
    """A single-use, short-lived link to set a new password, sent by mail; only its hash is kept.

    Operational state like the failed logins: asking for a reset records nothing in the
    ledger of record (anyone may ask, for any address); setting the new password does."""

    __tablename__ = "password_reset"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False, index=True))
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class TwoFactor(SQLModel, table=True):
    """A login's authenticator app (TOTP, RFC 6238): its shared secret, encrypted under a key
    derived from the installation's secret, and the last time step a code was accepted in, so
    that no code works twice. ``enabled_at`` is empty while the person has not yet confirmed
    a first code.

    Operational state, not the cooperative's record: the secret must never reach the ledger,
    and ``last_step`` moves at every sign-in. Switching it on and off, resets and used recovery
    codes are recorded as events (``two-factor.*``) naming only the account."""

    __tablename__ = "two_factor"

    user_id: int = Field(sa_column=Column(Integer, ForeignKey("user_account.id"), primary_key=True))
    secret: str = Field(sa_column=Column(String(255), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    enabled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_step: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


class RecoveryCode(SQLModel, table=True):
    """A one-time code for signing in without the authenticator app, kept only as a keyed hash
    (HMAC-SHA-256 under a key derived from the installation's secret)."""

    __tablename__ = "two_factor_recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False, index=True))
    code_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
