"""HTTP: the ledger of record for auditors and the public.

Tree heads, the public key and proofs are public (they reveal hashes only). So are the
checkpoint and the hash tiles (C2SP tlog-checkpoint and tlog-tiles, see :mod:`ledger.tiles`).
The entry bundles hold the events' canonical bytes: events name members by id and number,
never by name or email, but carry their choices. They are public by default; with
``COOP_LEDGER_PUBLIC_ENTRIES=false`` they are for the board and auditors, like the paged
events with their parsed payloads.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session

from coop.auth.policy import Actor, Permission
from coop.db import Database
from coop.deps import SEQ_MAX, Now, OptionalCredential, ReadSession, get_database, permitted, require
from coop.errors import Invalid, NotFound
from coop.record import checkpoints, witnesses
from coop.record.schemas import (
    ConsistencyOut,
    EventOut,
    EventPage,
    InclusionOut,
    PublicKeyOut,
    TreeHeadOut,
    WitnessesOut,
    WitnessOut,
)
from ledger import log, tiles
from ledger.signing import note_verifier_key, raw_public_key

router = APIRouter(prefix="/ledger", tags=["ledger of record"])

BRIEFLY = "public, max-age=5"
"""The checkpoint and partial tiles: they move on as the log grows (tlog-tiles: a few seconds)."""
FOR_EVER = "public, max-age=31536000, immutable"
"""Full tiles and entry bundles never change."""
BRIEFLY_PRIVATE = "private, max-age=5"
FOR_EVER_PRIVATE = "private, max-age=31536000, immutable"
"""Entry bundles that are not public: a browser may keep them, a shared cache never."""


@router.get("/tree-head", response_model=TreeHeadOut, summary="The newest signed tree head (public)")
def tree_head(session: ReadSession, db: Annotated[Database, Depends(get_database)], now: Now) -> TreeHeadOut:
    """Heads are signed when a commit finds the last one older than the signing interval,
    and on a schedule when events are waiting; reading one never signs or writes."""
    return TreeHeadOut.of(checkpoints.newest_head(session, db, now))


@router.get(
    "/checkpoint",
    summary="The newest signed tree head as a C2SP checkpoint (public)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "a tlog-checkpoint signed note"}},
)
def checkpoint(session: ReadSession, db: Annotated[Database, Depends(get_database)], now: Now) -> Response:
    """The newest signed tree head as a signed note (c2sp.org/tlog-checkpoint): the log's
    name (``COOP_LEDGER_LOG_NAME``), the tree size, the root hash in base64, a blank line
    and the Ed25519 signature line of the key named like the log. The same head always
    gives the same checkpoint. Verify it with ``note_verifier_key`` of ``/ledger/public-key``;
    the tiles serve the tree it signs.

    The witnesses' ``cosignature/v1`` lines for this head follow the log's line
    (c2sp.org/tlog-cosignature), once they cosigned it: a head newer than the last they
    cosigned is served without them (``/ledger/witnesses`` names the witnesses and keys)."""
    note = checkpoints.checkpoint_note(session, db, now)
    return Response(note, media_type="text/plain; charset=utf-8", headers={"Cache-Control": BRIEFLY})


@router.get(
    "/tile/{path:path}",
    summary="Hash tiles (public) and entry bundles (public, or board and auditor) of the log (C2SP tlog-tiles)",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the tile's bytes"}},
    openapi_extra={"security": [{}]},  # added to login and api-key: a credential is optional
)
def tile(
    path: str,
    request: Request,
    session: ReadSession,
    db: Annotated[Database, Depends(get_database)],
    now: Now,
    credential: OptionalCredential,
) -> Response:
    """``tile/<L>/<N>[.p/<W>]``: up to 256 hashes of 32 bytes of the tree's level 8·L;
    ``tile/entries/<N>[.p/<W>]``: the events' canonical bytes, each behind its length (a
    big-endian uint16). Only tiles within the newest checkpoint are served. Full tiles never
    change and are cached for a year; partial ones for seconds.

    Hash tiles are public. Entry bundles are public too, unless the cooperative keeps its
    events' contents to the board and auditors (``COOP_LEDGER_PUBLIC_ENTRIES=false``,
    ``public_entries`` of ``/ledger/public-key``): then they need a login or API key with
    ``read_ledger_events`` (401 without one, 403 for another role) and are cached ``private``
    only. A credential sent for a public tile is not looked at."""
    try:
        wanted = tiles.parse_path(path)
    except tiles.TilePathError as exc:
        raise NotFound(f"no tile at tile/{path}: {exc}", code="tile-not-found") from exc
    private = wanted.level == tiles.ENTRIES and not db.settings.ledger.public_entries
    if private:
        permitted(request, credential, Permission.read_ledger_events)
    head = log.newest_head(session, db.signer, now=now)
    size = head.tree_size if head is not None else 0
    if not wanted.within(size):
        raise NotFound(f"{wanted.path} is beyond the newest checkpoint, of {size} events", code="tile-not-found")
    try:
        data = tiles.read(session, wanted)
    except tiles.EntryTooLong as exc:
        raise NotFound(
            f"{wanted.path}: {exc}; read the events from /ledger/events and their hashes from the hash tiles",
            code="entry-too-long",
        ) from exc
    return Response(
        data,
        media_type="application/octet-stream",
        headers=_cache_headers(full=wanted.full, private=private),
    )


def _cache_headers(*, full: bool, private: bool) -> dict[str, str]:
    if private:  # Vary: a browser shared by two people keeps it for the credential that read it
        return {"Cache-Control": FOR_EVER_PRIVATE if full else BRIEFLY_PRIVATE, "Vary": "Authorization"}
    return {"Cache-Control": FOR_EVER if full else BRIEFLY}


@router.get("/public-key", response_model=PublicKeyOut, summary="The key that signs tree heads (public)")
def public_key(db: Annotated[Database, Depends(get_database)]) -> PublicKeyOut:
    return PublicKeyOut(
        key_id=db.signer.key_id,
        public_key_hex=raw_public_key(db.signer.public_key).hex(),
        public_key_pem=db.signer.public_pem(),
        log_name=db.settings.ledger.log_name,
        note_verifier_key=note_verifier_key(db.settings.ledger.log_name, db.signer.public_key),
        public_entries=db.settings.ledger.public_entries,
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


@router.get("/witnesses", response_model=WitnessesOut, summary="The witnesses and how they are doing (board, auditor)")
def witness_states(
    session: ReadSession,
    db: Annotated[Database, Depends(get_database)],
    _actor: Annotated[Actor, Depends(require(Permission.read_ledger_events))],
) -> WitnessesOut:
    """Each witness in ``COOP_LEDGER_WITNESSES`` (c2sp.org/tlog-witness): the largest tree it
    cosigned, when it was last offered a checkpoint, and the last error. A failure marked
    ``serious`` means the witness holds another checkpoint of this log for some size: a split
    view, or a database restored from an older copy."""
    head = log.latest_head(session)
    size = head.tree_size if head is not None else 0
    items = []
    for witness, state in witnesses.states(session, db):
        cosigned = state.cosigned_size if state is not None else 0
        items.append(
            WitnessOut(
                name=witness.name,
                url=witness.url,
                vkey=witness.vkey,
                cosigned_size=cosigned,
                cosigned_at=state.cosigned_at if state else None,
                attempted_at=state.attempted_at if state else None,
                error=state.error if state else None,
                error_at=state.error_at if state else None,
                serious=state.serious if state else False,
                behind=max(0, size - cosigned),
            )
        )
    return WitnessesOut(tree_size=size, witnesses=items)
