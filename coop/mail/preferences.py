"""A member's message settings as values: which optional messages they get, and how often.

Optional messages come in topics a member can switch off (or, for the data-use digest, make
less frequent). Security notices and messages the law requires belong to no topic: they are
always sent. A member who never changed a setting has :data:`DEFAULTS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from coop.mail.models import MailKind


class Topic(StrEnum):
    """What an unsubscribe link switches off."""

    dividend = "dividend"
    data_use_digest = "data-use-digest"
    votes = "votes"


class Digest(StrEnum):
    immediately = "immediately"
    monthly = "monthly"
    never = "never"


@dataclass(frozen=True, slots=True)
class Preferences:
    dividend: bool = True
    digest: Digest = Digest.monthly
    votes: bool = True

    def without(self, topic: Topic) -> Preferences:
        """The same settings with ``topic`` switched off."""
        if topic is Topic.dividend:
            return Preferences(False, self.digest, self.votes)
        if topic is Topic.data_use_digest:
            return Preferences(self.dividend, Digest.never, self.votes)
        return Preferences(self.dividend, self.digest, False)


DEFAULTS = Preferences()

OPTIONAL: dict[MailKind, Topic] = {
    MailKind.dividend: Topic.dividend,
    MailKind.vote_opened: Topic.votes,
    MailKind.vote_result: Topic.votes,
    MailKind.vote_closing: Topic.votes,
    MailKind.data_use_digest: Topic.data_use_digest,
}
"""The kinds of message a member may switch off, and the topic that does it. Every other
kind (invitations, password resets, security notices) is always sent."""
