"""API output: messages the board should know could not be delivered."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from coop.mail.models import OutboxMessage


class UndeliverableOut(BaseModel):
    id: int
    kind: str
    member_id: int | None
    recipient: str
    attempts: int
    error: str | None
    created_at: datetime
    failed_at: datetime | None

    @classmethod
    def of(cls, message: OutboxMessage) -> UndeliverableOut:
        assert message.id is not None
        return cls(
            id=message.id,
            kind=message.kind,
            member_id=message.member_id,
            recipient=message.recipient,
            attempts=message.attempts,
            error=message.last_error,
            created_at=message.created_at,
            failed_at=message.failed_at,
        )


class UndeliverablePage(BaseModel):
    items: list[UndeliverableOut]
    total: int
    limit: int
    offset: int
