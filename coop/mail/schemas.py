"""API shapes: messages the board should know could not be delivered; a member's message settings."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from coop.mail.models import OutboxMessage
from coop.mail.preferences import Digest, Preferences


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


class MessageSettingsBody(BaseModel):
    """Which optional messages the member gets. Security notices and messages the law
    requires are always sent and have no setting."""

    model_config = ConfigDict(extra="forbid")

    dividend: bool = Field(description="a message when a distribution pays the member a dividend")
    digest: Digest = Field(description="how often the digest of how the member's data was used comes")
    votes: bool = Field(description="messages about votes and consultations")

    @classmethod
    def of(cls, value: Preferences) -> MessageSettingsBody:
        return cls(dividend=value.dividend, digest=value.digest, votes=value.votes)

    def preferences(self) -> Preferences:
        return Preferences(self.dividend, self.digest, self.votes)
