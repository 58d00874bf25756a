"""The log's checkpoints (c2sp.org/tlog-checkpoint): the signed notes that the public
endpoint serves, that witnesses cosign and that members' receipts carry.

One place builds them, so the checkpoint a reader fetches, the one a witness is sent and
the one in a receipt are the same bytes for the same tree head.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from coop.db import Database
from coop.errors import Unavailable
from ledger import log, tiles
from ledger.signing import SignedTreeHead


def newest_head(session: Session, db: Database, now: datetime) -> SignedTreeHead:
    """The newest signed tree head; 503 ``tree-head-pending`` while events wait for their first one."""
    head = log.newest_head(session, db.signer, now=now)
    if head is None:
        raise Unavailable(
            "no tree head has been signed yet; one is signed within the signing interval",
            code="tree-head-pending",
            retry_after=max(1, round(db.settings.ledger.head_interval_seconds)),
        )
    return head


def note_of(db: Database, tree_size: int, root_hash: bytes) -> str:
    """The checkpoint of a tree of ``tree_size`` events with this root, signed by the log's key:
    origin line, size, root in base64, a blank line and one signature line."""
    name = db.settings.ledger.log_name
    return db.signer.sign_note(name, tiles.checkpoint_text(name, tree_size, root_hash))


def checkpoint_note(session: Session, db: Database, now: datetime) -> str:
    """The newest signed tree head as a checkpoint."""
    head = newest_head(session, db, now)
    return note_of(db, head.tree_size, head.root_hash)


def receipt_checkpoint(session: Session, db: Database, covering: int, now: datetime) -> str | None:
    """The checkpoint a receipt of event ``covering`` carries: the newest signed tree head as a
    note, when it covers that event (with whatever cosignatures it has); None while no signed
    head covers it yet."""
    head = log.newest_head(session, db.signer, now=now)
    if head is None or head.tree_size < covering:
        return None
    return note_of(db, head.tree_size, head.root_hash)
