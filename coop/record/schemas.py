"""API shapes of the ledger of record. Hashes and signatures are lowercase hex."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ledger import canonical
from ledger.events import Event
from ledger.signing import SignedTreeHead


class TreeHeadOut(BaseModel):
    tree_size: int
    root_hash: str
    timestamp: str
    key_id: str
    signature: str = Field(description="Ed25519 over signed_message (hex)")
    signed_message: str = Field(description="the exact bytes signed, as text")

    @classmethod
    def of(cls, head: SignedTreeHead) -> TreeHeadOut:
        from ledger.signing import head_message

        return cls(
            tree_size=head.tree_size,
            root_hash=head.root_hash.hex(),
            timestamp=head.timestamp,
            key_id=head.key_id,
            signature=head.signature.hex(),
            signed_message=head_message(head.tree_size, head.root_hash, head.timestamp).decode(),
        )


class PublicKeyOut(BaseModel):
    key_id: str
    algorithm: str = "Ed25519"
    public_key_hex: str
    public_key_pem: str
    log_name: str = Field(description="the origin line of the checkpoints (GET /ledger/checkpoint)")
    note_verifier_key: str = Field(
        description="the same key as a C2SP signed-note verifier key, <name>+<key id>+<base64(0x01 || key)>, "
        "for checking the checkpoints (e.g. Go's golang.org/x/mod/sumdb/note)"
    )


class EventOut(BaseModel):
    seq: int
    time: str
    type: str
    actor: str
    subject: str
    payload: dict[str, Any]
    leaf_hash: str = Field(description="SHA-256(0x00 || canonical bytes), hex")

    @classmethod
    def of(cls, e: Event) -> EventOut:
        return cls(
            seq=e.seq,
            time=e.time,
            type=e.type,
            actor=e.actor,
            subject=e.subject,
            payload=canonical.loads(e.payload),
            leaf_hash=e.leaf_hash.hex(),
        )


class EventPage(BaseModel):
    items: list[EventOut]
    next_after_seq: int | None = Field(description="pass as after_seq for the next page; null at the end")


class InclusionOut(BaseModel):
    seq: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    audit_path: list[str]


class ConsistencyOut(BaseModel):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]
