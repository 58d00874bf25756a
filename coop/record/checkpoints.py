"""The log's checkpoints (c2sp.org/tlog-checkpoint): the signed notes that the public
endpoint serves, that witnesses cosign and that members' receipts carry.

One place builds them, so the checkpoint a reader fetches, the one a witness is sent and
the one in a receipt are the same bytes for the same tree head. The witnesses' cosignatures
(c2sp.org/tlog-cosignature, kept by :mod:`coop.record.witnesses`) follow the log's own
signature line, as further signature lines of the same note.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from coop.db import Database
from coop.errors import Unavailable
from coop.record.models import WitnessCosignature
from ledger import log, merkle, tiles
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
    """The newest signed tree head as a checkpoint, with the cosignatures stored for it (none
    while the witnesses have not cosigned this head yet: it stays the newest all the same)."""
    head = newest_head(session, db, now)
    return _with_cosignatures(session, db, head.tree_size, head.root_hash)


def _with_cosignatures(session: Session, db: Database, tree_size: int, root_hash: bytes) -> str:
    """The checkpoint, then the witnesses' lines: further signature lines of the same note."""
    lines = cosignature_lines(session, tree_size, root_hash)
    return note_of(db, tree_size, root_hash) + "".join(f"{line}\n" for line in lines)


def cosignature_lines(session: Session, tree_size: int, root_hash: bytes) -> list[str]:
    """The witnesses' cosignature lines stored for the checkpoint of exactly this size and
    root, in the order they arrived."""
    rows = session.exec(
        select(WitnessCosignature)
        .where(col(WitnessCosignature.tree_size) == tree_size, col(WitnessCosignature.root_hash) == root_hash)
        .order_by(col(WitnessCosignature.id))
    ).all()
    return [row.line for row in rows]


def _root_of(session: Session, tree_size: int) -> bytes:
    head = log.head_at(session, tree_size)
    if head is not None:
        return head.root_hash
    if tree_size == 0:
        return merkle.EMPTY_ROOT
    raise LookupError(f"no tree head of {tree_size} events was signed")


def cosigned_note(session: Session, db: Database, tree_size: int) -> str:
    """The checkpoint of the signed head of ``tree_size`` events, followed by every
    cosignature stored for it (none yet: the log's signature alone). ``LookupError`` when no
    head of that size was signed."""
    return _with_cosignatures(session, db, tree_size, _root_of(session, tree_size))


def cosigned_for(session: Session, db: Database, tree_size: int) -> str | None:
    """The newest checkpoint of at least ``tree_size`` events that witnesses have cosigned,
    with their cosignatures (for a receipt: it proves the event to whoever trusts a witness);
    None while no witness has cosigned a tree that large."""
    sizes = session.exec(
        select(WitnessCosignature.tree_size)
        .where(col(WitnessCosignature.tree_size) >= tree_size)
        .order_by(col(WitnessCosignature.tree_size).desc())
        .distinct()
    ).all()
    for size in sizes:
        head = log.head_at(session, size)
        if head is not None and cosignature_lines(session, size, head.root_hash):
            return cosigned_note(session, db, size)
    return None


def receipt_checkpoint(session: Session, db: Database, covering: int, now: datetime) -> str | None:
    """The checkpoint a receipt of event ``covering`` carries: the newest one the witnesses
    cosigned that covers the event, with their cosignatures; before they have cosigned one that
    large, the newest signed tree head (with whatever cosignatures it has); None while no
    signed head covers the event yet."""
    cosigned = cosigned_for(session, db, covering)
    if cosigned is not None:
        return cosigned
    head = log.newest_head(session, db.signer, now=now)
    if head is None or head.tree_size < covering:
        return None
    return _with_cosignatures(session, db, head.tree_size, head.root_hash)
