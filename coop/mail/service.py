"""Changing a member's message settings: on their own page or API, or by an unsubscribe link.

Settings are the member's wish about their mail, kept beside the outbox as operational
state: no event records them (an event would tie a member to a preference in the record
for good, and the record has no need of it).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from coop.auth.policy import Actor, require_own_record
from coop.mail import queries
from coop.mail.models import MessageSettings
from coop.mail.preferences import Preferences, Topic
from coop.members.models import Member


def _store(session: Session, member_id: int, wanted: Preferences, now: datetime) -> None:
    row = session.get(MessageSettings, member_id)
    if row is None:
        row = MessageSettings(member_id=member_id, dividend=True, digest="", votes=True, updated_at=now)
    row.dividend, row.digest, row.votes, row.updated_at = wanted.dividend, wanted.digest.value, wanted.votes, now
    session.add(row)
    session.flush()


def change(session: Session, actor: Actor, member_id: int, wanted: Preferences, *, now: datetime) -> Preferences:
    """The member's own settings, as they want them; only the member may change them."""
    require_own_record(actor, member_id)
    if queries.preferences(session, member_id) != wanted:
        _store(session, member_id, wanted, now)
    return wanted


def unsubscribe(session: Session, member_id: int, topic: Topic, *, now: datetime) -> bool:
    """Switch ``topic`` off for the member of a genuine unsubscribe link (checked by the
    caller: the link is the authority); False when it was off already, and nothing changes."""
    if session.get(Member, member_id) is None:
        return False
    current = queries.preferences(session, member_id)
    wanted = current.without(topic)
    if wanted == current:
        return False
    _store(session, member_id, wanted, now)
    return True
