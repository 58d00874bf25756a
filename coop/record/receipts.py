"""A member's receipt for one of their events: the event's canonical bytes, its inclusion
proof and the signed checkpoint that covers it, in the c2sp.org/tlog-proof format (see
:mod:`ledger.receipts`, which verifies them without a database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from coop.auth.policy import Actor
from coop.db import Database
from coop.errors import NotFound, Unavailable
from coop.record import checkpoints
from coop.record.queries import require_reader, subject_of
from ledger import log, receipts
from ledger.events import Event
from ledger.models import LedgerEvent


@dataclass(frozen=True, slots=True)
class ReceiptFile:
    text: str
    filename: str


def _own_event(session: Session, member_id: int, seq: int) -> Event:
    row = session.execute(select(LedgerEvent).where(col(LedgerEvent.seq) == seq)).scalar()
    if row is None or row.subject != subject_of(member_id):  # another member's event: it does not exist
        raise NotFound(f"member {member_id} has no event {seq}", code="event-not-found")
    return Event(row.seq, row.recorded_at, row.type, row.actor, row.subject, row.payload)


def receipt(session: Session, db: Database, actor: Actor, member_id: int, seq: int, now: datetime) -> ReceiptFile:
    """The receipt of event ``seq`` about the member. 404 when the actor may not read the member
    or the event is not about them; 503 ``receipt-pending`` while no signed head covers it."""
    require_reader(session, actor, member_id)
    event = _own_event(session, member_id, seq)
    note = checkpoints.receipt_checkpoint(session, db, seq, now)
    if note is None:
        raise Unavailable(
            f"event {seq} is not yet in a signed tree head; one is signed within the signing interval",
            code="receipt-pending",
            retry_after=max(1, round(db.settings.ledger.head_interval_seconds)),
        )
    checkpoint = receipts.parse_checkpoint(note)
    proof = log.inclusion_proof(session, seq, checkpoint.tree_size)
    if proof.root_hash != checkpoint.root_hash or proof.leaf_hash != event.leaf_hash:
        raise RuntimeError(f"the stored tree disagrees with the checkpoint of {checkpoint.tree_size} events")
    text = receipts.format_receipt(event.canonical_bytes, event.leaf_index, proof.path, note)
    return ReceiptFile(text, f"receipt-{seq}{receipts.SUFFIX}")
