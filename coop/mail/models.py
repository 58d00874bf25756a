"""The outbox: every message to a member, written in the transaction of the change that causes it.

Operational delivery state, not the cooperative's record: rows change as delivery goes on
(attempts, the next attempt, sent or failed), no ledger event records them, and once a
message is sent its values are emptied (an invitation or reset link must not outlive its
delivery in the database). The ledger of record never learns an email address.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from coop.types import UTCDateTime

ERASED_ADDRESS = "erased:"
"""How an erased person's address begins (``erased:42``): never an address (no ``@``), so
the outbox writes nothing to it and the worker sends nothing to it."""


def is_erased(address: str) -> bool:
    return address.startswith(ERASED_ADDRESS)


class MailStatus(StrEnum):
    pending = "pending"
    """Waiting for its next attempt (or being attempted: see ``next_attempt_at``)."""
    sent = "sent"
    failed = "failed"
    """Undeliverable: the mail server refused it for good, or every attempt failed."""
    withdrawn = "withdrawn"
    """Not sent because what it said no longer holds (a newer invitation replaced it)."""


class MailKind(StrEnum):
    invitation = "invitation"
    password_reset = "password-reset"  # noqa: S105 (a kind of message, not a password)
    dividend = "dividend"
    choices_changed = "choices-changed"
    proxy_appointed = "proxy-appointed"
    proxy_ended = "proxy-ended"
    proxy_accepted = "proxy-accepted"
    acting_for_started = "acting-for-started"
    acting_for_ended = "acting-for-ended"
    carer_invitation = "carer-invitation"
    vote_opened = "vote-opened"
    vote_result = "vote-result"
    vote_closing = "vote-closing"
    data_use_digest = "data-use-digest"
    incident = "incident"
    board_welcome = "board-welcome"
    email_change_confirm = "email-change-confirm"
    email_change_requested = "email-change-requested"
    email_changed = "email-changed"
    name_changed = "name-changed"
    approval_waiting = "approval-waiting"
    two_factor_changed = "two-factor-changed"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    """The Message-ID's unique part (``<message_id@sender's domain>``), fixed when the message
    is written: a repeat after a crash is recognisably the same message."""
    kind: str = Field(sa_column=Column(String(40), nullable=False))
    member_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True, index=True))
    """The member it is written to, if any (no foreign key: a distribution writes a message per
    member, and members are never deleted; see migration 0031)."""
    recipient: str = Field(sa_column=Column(String(320), nullable=False))
    language: str = Field(sa_column=Column(String(2), nullable=False))
    context: str = Field(sa_column=Column(Text, nullable=False))
    """The values its templates are filled in with, as JSON; rendered when it is sent, in
    its language. Emptied once sent or withdrawn."""
    status: str = Field(sa_column=Column(String(12), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    """When the message is due. Claiming it moves this a lease ahead, so a worker that
    dies while sending leaves it to another once the lease runs out."""
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column(String(500), nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    failed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    shared_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    """Values this message shares with others of its pass (:class:`SharedContext`), if any."""


class SharedContext(SQLModel, table=True):
    """Values that many messages of one pass have in common, as JSON, stored once: a
    message's templates are filled with these and then its own ``context``. They name no
    member (the permits and results a digest tells about), so they stay after sending."""

    __tablename__ = "mail_shared"

    id: int | None = Field(default=None, primary_key=True)
    context: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class MailRun(SQLModel, table=True):
    """A scheduled pass of the mail worker that wrote messages (see :mod:`coop.mail.schedule`).
    ``(kind, key)`` names what it covers, once: a second worker making the same pass at the
    same time fails to write this row and its messages roll back with it."""

    __tablename__ = "mail_run"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(String(40), nullable=False))
    key: str = Field(sa_column=Column(String(80), nullable=False))
    through_seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    """The ledger of record's last event the pass took into account (a digest's next pass
    starts after it)."""
    messages: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class MessageSettings(SQLModel, table=True):
    """Which optional messages a member gets, and how often; a member without a row has the
    defaults (:data:`coop.mail.preferences.DEFAULTS`). Security notices and messages the law
    requires are not optional and have no setting."""

    __tablename__ = "member_message_settings"

    member_id: int = Field(sa_column=Column(Integer, ForeignKey("member.id"), primary_key=True))
    dividend: bool = Field(sa_column=Column(Boolean, nullable=False))
    digest: str = Field(sa_column=Column(String(12), nullable=False))
    """How often the data-use digest comes: ``immediately``, ``monthly`` or ``never``."""
    votes: bool = Field(sa_column=Column(Boolean, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
