"""A version of a governing document exactly as the ledger of record holds it.

The text is the document in the ledger's own ``{kind}.adopted`` event, not the table beside
it, so its SHA-256 is a fingerprint of bytes inside the signed tree: anyone can fetch that
event and its inclusion proof and check both without trusting the page that shows them.
Nothing here writes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from coop.errors import NotFound
from coop.governance.documents import Document, DocumentKind, parse_document
from ledger import canonical, log, merkle


@dataclass(frozen=True, slots=True)
class Recorded:
    """A version of a governing document as the ledger of record holds it."""

    kind: DocumentKind
    version: int
    effective_from: datetime
    source: str
    """``statutes`` (the founding statutes) or ``proposal:N`` (adopted by the members' vote)."""
    text: str
    """The document's canonical JSON, byte for byte as in the ledger event."""
    sha256: str
    """SHA-256 of :attr:`text` (UTF-8), in hex."""
    event_seq: int
    """The ``{kind}.adopted`` event in the ledger of record."""
    event_leaf_hash: str
    """That event's leaf hash in the RFC 9162 tree, in hex."""
    document: Document


def recorded(session: Session, kind: DocumentKind, version: int) -> Recorded:
    """Version ``version`` of ``kind`` from its adoption event in the ledger of record."""
    adopted = next(
        (e for e in log.events_of(session, f"{kind.value}:{version}") if e.type == f"{kind.value}.adopted"), None
    )
    if adopted is None:
        raise NotFound(f"no {kind.value} version {version}", code="document-not-found")
    payload = canonical.loads(adopted.payload)
    text = canonical.dumps(payload["document"])
    document, errors = parse_document(kind, payload["document"])
    assert document is not None, errors  # validated when it was adopted
    return Recorded(
        kind=kind,
        version=version,
        effective_from=datetime.fromisoformat(payload["effective_from"]),
        source=payload["source"],
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        event_seq=adopted.seq,
        event_leaf_hash=merkle.leaf_hash(adopted.canonical_bytes).hex(),
        document=document,
    )
