"""API shapes of the ledger of record. Hashes and signatures are lowercase hex."""

from __future__ import annotations

from datetime import datetime
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
    public_entries: bool = Field(
        default=True,
        description="whether anyone may read the entry bundles (tile/entries/...); when false, only the board "
        "and auditors may, with a login or API key (COOP_LEDGER_PUBLIC_ENTRIES); hash tiles are always public",
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


class WitnessOut(BaseModel):
    name: str = Field(description="the witness's name in COOP_LEDGER_WITNESSES")
    url: str = Field(description="its URL prefix (add-checkpoint is under it)")
    vkey: str = Field(description="its cosigner verifier key (cosignature/v1)")
    cosigned_size: int = Field(description="the largest tree it cosigned as far as we know (0: none yet)")
    cosigned_at: datetime | None = Field(description="the time in that cosignature")
    attempted_at: datetime | None = Field(description="when it was last offered a checkpoint")
    error: str | None = Field(description="why the last offer failed; null when it succeeded")
    error_at: datetime | None
    serious: bool = Field(
        description="the last failure means the witness saw another checkpoint of this log for a size (a split "
        "view): look into it"
    )
    behind: int = Field(description="events in the newest signed head that it has not cosigned yet")


class WitnessesOut(BaseModel):
    tree_size: int = Field(description="the newest signed head's size")
    witnesses: list[WitnessOut]
