"""HTTP: the ledger of record for auditors and the public.

Tree heads, the public key and proofs are public (they reveal hashes only). The events
themselves are for the board and auditors: they carry member ids and numbers, never
names or emails.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlmodel import Session

from coop.auth.policy import Actor, Permission
from coop.db import Database
from coop.deps import SEQ_MAX, Now, ReadSession, get_database, require
from coop.errors import Invalid, Unavailable
from coop.record.schemas import ConsistencyOut, EventOut, EventPage, InclusionOut, PublicKeyOut, TreeHeadOut
from ledger import log
from ledger.signing import raw_public_key

router = APIRouter(prefix="/ledger", tags=["ledger of record"])


@router.get("/tree-head", response_model=TreeHeadOut, summary="The newest signed tree head (public)")
def tree_head(session: ReadSession, db: Annotated[Database, Depends(get_database)], now: Now) -> TreeHeadOut:
    """Heads are signed when a commit finds the last one older than the signing interval,
    and on a schedule when events are waiting; reading one never signs or writes."""
    head = log.newest_head(session, db.signer, now=now)
    if head is None:
        raise Unavailable(
            "no tree head has been signed yet; one is signed within the signing interval",
            code="tree-head-pending",
            retry_after=max(1, round(db.settings.ledger.head_interval_seconds)),
        )
    return TreeHeadOut.of(head)


@router.get("/public-key", response_model=PublicKeyOut, summary="The key that signs tree heads (public)")
def public_key(db: Annotated[Database, Depends(get_database)]) -> PublicKeyOut:
    return PublicKeyOut(
        key_id=db.signer.key_id,
        public_key_hex=raw_public_key(db.signer.public_key).hex(),
        public_key_pem=db.signer.public_pem(),
    )


@router.get("/events", response_model=EventPage, summary="Events in sequence order (board, auditor)")
def events(
    session: ReadSession,
    _actor: Annotated[Actor, Depends(require(Permission.read_ledger_events))],
    after_seq: Annotated[int, Query(ge=0, le=SEQ_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    items = log.events_after(session, after_seq, limit)
    return EventPage(
        items=[EventOut.of(e) for e in items],
        next_after_seq=items[-1].seq if len(items) == limit else None,
    )


def _size_or_current(session: Session, size: int | None, name: str) -> int:
    current = log.tree_size(session)
    size = current if size is None else size
    if size > current:
        raise Invalid(f"{name} {size} is beyond the log's {current} events", code="beyond-log", field=name)
    return size


@router.get("/proofs/inclusion", response_model=InclusionOut, summary="Audit path of one event (public)")
def inclusion(
    session: ReadSession,
    seq: Annotated[int, Query(ge=1, le=SEQ_MAX)],
    tree_size: Annotated[int | None, Query(ge=1, le=SEQ_MAX, description="default: the current size")] = None,
) -> InclusionOut:
    size = _size_or_current(session, tree_size, "tree_size")
    if seq > size:
        raise Invalid(f"event {seq} is not in a tree of {size} events", code="beyond-tree", field="seq")
    proof = log.inclusion_proof(session, seq, size)
    return InclusionOut(
        seq=seq,
        leaf_index=seq - 1,
        tree_size=size,
        leaf_hash=proof.leaf_hash.hex(),
        root_hash=proof.root_hash.hex(),
        audit_path=[h.hex() for h in proof.path],
    )


@router.get(
    "/proofs/consistency", response_model=ConsistencyOut, summary="Proof that one tree extends another (public)"
)
def consistency(
    session: ReadSession,
    first: Annotated[int, Query(ge=0, le=SEQ_MAX)],
    second: Annotated[int | None, Query(ge=0, le=SEQ_MAX, description="default: the current size")] = None,
) -> ConsistencyOut:
    size = _size_or_current(session, second, "second")
    if first > size:
        raise Invalid(f"first ({first}) must not exceed second ({size})", code="first-after-second", field="first")
    proof = log.consistency_proof(session, first, size)
    return ConsistencyOut(
        first=first,
        second=size,
        first_root=proof.first_root.hex(),
        second_root=proof.second_root.hex(),
        proof=[h.hex() for h in proof.path],
    )
