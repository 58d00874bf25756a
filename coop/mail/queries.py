"""Reading the outbox (what could not be delivered, for the board) and members' message settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlmodel import Session, col

from coop.mail.models import MailStatus, MessageSettings, OutboxMessage
from coop.mail.preferences import DEFAULTS, Digest, Preferences


def wants(setting: Any) -> ColumnElement[bool]:
    """The condition that a member, outer-joined to their :class:`MessageSettings`, gets the
    optional messages of ``setting`` (a boolean column): on unless they switched it off."""
    return or_(setting.is_(None), setting.is_(True))


def undeliverable(session: Session, limit: int, offset: int) -> tuple[list[OutboxMessage], int]:
    """Failed messages, the newest failure first, and how many there are."""
    failed = col(OutboxMessage.status) == MailStatus.failed.value
    total = session.execute(select(func.count()).select_from(OutboxMessage).where(failed)).scalar_one()
    rows = session.execute(
        select(OutboxMessage)
        .where(failed)
        .order_by(col(OutboxMessage.failed_at).desc(), col(OutboxMessage.id).desc())
        .limit(limit)
        .offset(offset)
    ).scalars()
    return list(rows), int(total)


def waiting(session: Session) -> int:
    """How many messages wait for delivery."""
    pending = col(OutboxMessage.status) == MailStatus.pending.value
    return int(session.execute(select(func.count()).select_from(OutboxMessage).where(pending)).scalar_one())


def preferences(session: Session, member_id: int) -> Preferences:
    """The member's message settings (the defaults until they change one)."""
    row = session.get(MessageSettings, member_id)
    if row is None:
        return DEFAULTS
    return Preferences(row.dividend, Digest(row.digest), row.votes)
