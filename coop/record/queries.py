"""Reading a member's own events of the ledger of record: which there are, and whether a
signed tree head covers each yet (then its receipt can be downloaded, see
:mod:`coop.record.receipts`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from coop.auth.policy import Actor, Denied, can_read_member
from coop.errors import NotFound
from coop.i18n import N_
from coop.members.models import Member
from ledger import log
from ledger.models import LedgerEvent

EVENT_WORDS = {
    "member.admitted": N_("event_member_admitted"),
    "member.invited": N_("event_member_invited"),
    "member.renamed": N_("event_member_renamed"),
    "member.left": N_("event_member_left"),
    "choices.started": N_("event_choices_started"),
    "choices.changed": N_("event_choices_changed"),
    "proxy.appointed": N_("event_proxy_appointed"),
    "proxy.accepted": N_("event_proxy_accepted"),
    "proxy.declined": N_("event_proxy_declined"),
    "proxy.revoked": N_("event_proxy_revoked"),
}
"""The member's events in words; any other type is shown as the ledger names it."""


@dataclass(frozen=True, slots=True)
class OwnEvent:
    """An event about the member: its number in the ledger, what it was and when."""

    seq: int
    type: str
    time: str
    ready: bool
    """Whether a signed tree head covers it, so its receipt can be made now."""

    @property
    def moment(self) -> datetime:
        return datetime.fromisoformat(self.time)


def subject_of(member_id: int) -> str:
    """How the ledger names a member in an event's ``subject``."""
    return f"member:{member_id}"


def require_reader(session: Session, actor: Actor, member_id: int) -> None:
    """The member themselves and those who may read any member; to anyone else the member
    and their events do not exist (404), so nothing about them is revealed."""
    if isinstance(can_read_member(actor, member_id), Denied) or session.get(Member, member_id) is None:
        raise NotFound(f"no member {member_id}", code="member-not-found")


def signed_size(session: Session) -> int:
    """How many events the newest signed tree head covers."""
    head = log.latest_head(session)
    return head.tree_size if head is not None else 0


def member_events(session: Session, actor: Actor, member_id: int) -> list[OwnEvent]:
    """Every event about the member, oldest first."""
    require_reader(session, actor, member_id)
    covered = signed_size(session)
    rows = session.execute(
        select(col(LedgerEvent.seq), col(LedgerEvent.type), col(LedgerEvent.recorded_at))
        .where(col(LedgerEvent.subject) == subject_of(member_id))
        .order_by(col(LedgerEvent.seq))
    ).all()
    return [OwnEvent(seq, type_, time, seq <= covered) for seq, type_, time in rows]


def newest_event(session: Session, member_id: int, type_: str) -> int | None:
    """The number of the member's newest event of this type, if any."""
    stmt = select(func.max(col(LedgerEvent.seq))).where(
        col(LedgerEvent.subject) == subject_of(member_id), col(LedgerEvent.type) == type_
    )
    seq: int | None = session.execute(stmt).scalar()
    return seq


def offered(session: Session, member_id: int, asked: str | None) -> OwnEvent | None:
    """The member's event a page was sent back with (``?receipt=seq`` after a change), if it
    is theirs: the page offers its receipt, or says when it will be ready."""
    if asked is None or not asked.isdigit() or len(asked) > 18:
        return None
    row = session.execute(
        select(col(LedgerEvent.seq), col(LedgerEvent.type), col(LedgerEvent.recorded_at)).where(
            col(LedgerEvent.seq) == int(asked), col(LedgerEvent.subject) == subject_of(member_id)
        )
    ).first()
    if row is None:
        return None
    return OwnEvent(row[0], row[1], row[2], row[0] <= signed_size(session))
