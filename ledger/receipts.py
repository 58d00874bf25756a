"""Receipts that members keep: proofs in the c2sp.org/tlog-proof format, written and verified
without a database.

A receipt is a text file::

    c2sp.org/tlog-proof@v1
    extra <base64 of the event's canonical bytes>
    index <the event's leaf index, seq - 1>
    <the inclusion proof, one base64 SHA-256 hash a line, from the leaf's sibling up>

    <the checkpoint: origin, tree size, root hash, a blank line, its signature lines>

The event's canonical bytes (:func:`ledger.events.event_bytes`) travel in ``extra``, so a
receipt is self-contained: its leaf hash is ``SHA-256(0x00 || extra)``. ``extra`` is not
trusted on its own: it counts only because the inclusion proof leads from its hash to a root
that the log signed. The checkpoint's signature lines may include witnesses' cosignatures
(c2sp.org/tlog-cosignature, Ed25519 ``cosignature/v1``), which :func:`verify` checks against
the witness keys it is given.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger import canonical, merkle
from ledger.events import TIME, TOKEN, event_bytes

HEADER = "c2sp.org/tlog-proof@v1"
SUFFIX = ".tlog-proof"
"""The file name extension tlog-proof recommends."""
MEDIA_TYPE = "text/plain; charset=utf-8"

NOTE_ED25519 = 0x01
COSIGNATURE_ED25519 = 0x04
_SIGNATURE_LINE = re.compile("\u2014 ([^ +\\s]+) ([A-Za-z0-9+/]+={0,2})")
_DECIMAL = re.compile("0|[1-9][0-9]{0,18}")
MAX_SIGNATURES = 100
MAX_PROOF = 64


class ReceiptError(ValueError):
    """A receipt that does not verify; ``code`` says which check refused it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A signed-note verifier key ``<name>+<key id hex>+<base64(type || public key)>``."""

    name: str
    key_id: bytes
    type: int
    public_key: bytes

    @property
    def text(self) -> str:
        blob = base64.b64encode(bytes([self.type]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{blob}"


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class Checkpoint:
    body: str
    """The signed text: origin, size, root and any extension lines, each ending in a newline."""
    origin: str
    tree_size: int
    root_hash: bytes
    signatures: tuple[Signature, ...]


@dataclass(frozen=True, slots=True)
class Receipt:
    extra: bytes | None
    index: int
    proof: tuple[bytes, ...]
    checkpoint: Checkpoint


@dataclass(frozen=True, slots=True)
class EventSummary:
    """What the event in a receipt says."""

    seq: int
    type: str
    time: str
    actor: str
    subject: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Verified:
    """A receipt that verified: its event, the checkpoint it is in, and who signed that."""

    event: EventSummary
    origin: str
    tree_size: int
    root_hash: bytes
    log_key: str
    witnesses: tuple[str, ...]
    """The names of the witness keys whose cosignatures checked out."""


def key_id(name: str, type: int, public_key: bytes) -> bytes:
    """A note key's id: the first 4 bytes of SHA-256(name || 0x0A || type || public key)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([type]) + public_key).digest()[:4]


def parse_verifier_key(text: str) -> VerifierKey:
    """A verifier key as signed-note writes it; a wrong id, type or length is refused."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not parts[0] or re.search(r"\s", parts[0]):
        raise ReceiptError("bad-key", f"{text!r} is not a verifier key <name>+<key id>+<base64 key>")
    name, hex_id, blob = parts
    raw = _base64(blob, "the verifier key", "bad-key")
    if not re.fullmatch("[0-9a-f]{8}", hex_id) or len(raw) != 33 or raw[0] not in (NOTE_ED25519, COSIGNATURE_ED25519):
        raise ReceiptError("bad-key", f"{name}: only Ed25519 note and cosignature keys of 32 bytes are understood")
    key = VerifierKey(name, bytes.fromhex(hex_id), raw[0], raw[1:])
    if key_id(name, key.type, key.public_key) != key.key_id:
        raise ReceiptError("bad-key", f"{name}: the key id {hex_id} does not belong to this name and key")
    return key


def _base64(text: str, what: str, code: str = "malformed") -> bytes:
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ReceiptError(code, f"{what} is not base64") from exc
    if base64.b64encode(data).decode() != text:
        raise ReceiptError(code, f"{what} is not written in standard base64")
    return data


def _decimal(text: str, what: str) -> int:
    if not _DECIMAL.fullmatch(text):
        raise ReceiptError("malformed", f"{what} is not a decimal number without leading zeroes")
    return int(text)


def format_receipt(event: bytes, index: int, proof: Sequence[bytes], checkpoint: str) -> str:
    """A receipt of the event with these canonical bytes at ``index``, proven in ``checkpoint``
    (a signed note, verbatim)."""
    lines = [HEADER, f"extra {base64.b64encode(event).decode()}", f"index {index}"]
    lines += [base64.b64encode(h).decode() for h in proof]
    return "\n".join(lines) + "\n\n" + checkpoint


def parse(data: bytes | str) -> Receipt:
    """A receipt read strictly by tlog-proof, tlog-checkpoint and signed-note; anything else
    raises :class:`ReceiptError` with code ``malformed``."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ReceiptError("malformed", "a receipt is UTF-8 text") from exc
    if "\r" in data or any(ord(c) < 0x20 and c != "\n" for c in data):
        raise ReceiptError("malformed", "a receipt holds no control characters but newlines")
    head, sep, note = data.partition("\n\n")
    if not sep:
        raise ReceiptError("malformed", "no blank line between the proof and the checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise ReceiptError("malformed", f"the first line is not {HEADER}")
    lines.pop(0)
    extra = None
    if lines and lines[0].startswith("extra "):
        extra = _base64(lines.pop(0)[len("extra ") :], "extra")
    if not lines or not lines[0].startswith("index "):
        raise ReceiptError("malformed", "no index line")
    index = _decimal(lines.pop(0)[len("index ") :], "the index")
    if len(lines) > MAX_PROOF:
        raise ReceiptError("malformed", f"an inclusion proof has at most {MAX_PROOF} hashes")
    proof = []
    for n, line in enumerate(lines, 1):
        hash_ = _base64(line, f"proof line {n}")
        if len(hash_) != merkle.HASH_SIZE:
            raise ReceiptError("malformed", f"proof line {n} is not a SHA-256 hash")
        proof.append(hash_)
    return Receipt(extra, index, tuple(proof), parse_checkpoint(note))


def parse_checkpoint(note: str) -> Checkpoint:
    """A checkpoint as a signed note: its body and signature lines, each line ending in a newline."""
    body, sep, signed = note.rpartition("\n\n")
    if not sep or not body or not signed.endswith("\n"):
        raise ReceiptError("malformed", "the checkpoint is not a signed note: text, a blank line, signatures")
    lines = body.split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise ReceiptError("malformed", "a checkpoint has an origin, a tree size and a root hash, none empty")
    origin, size, root_text = lines[:3]
    root = _base64(root_text, "the checkpoint's root hash")
    if len(root) != merkle.HASH_SIZE:
        raise ReceiptError("malformed", "the checkpoint's root hash is not a SHA-256 hash")
    signatures = []
    for line in signed[:-1].split("\n"):
        match = _SIGNATURE_LINE.fullmatch(line)
        if not match:
            raise ReceiptError("malformed", f"not a signature line: {line[:60]!r}")
        blob = _base64(match.group(2), f"the signature of {match.group(1)}")
        if len(blob) < 5:
            raise ReceiptError("malformed", f"the signature of {match.group(1)} is too short")
        signatures.append(Signature(match.group(1), blob[:4], blob[4:]))
    if len(signatures) > MAX_SIGNATURES:
        raise ReceiptError("malformed", f"a note has at most {MAX_SIGNATURES} signatures")
    tree_size = _decimal(size, "the checkpoint's tree size")
    return Checkpoint(body + "\n", origin, tree_size, root, tuple(signatures))


def _signed(key: VerifierKey, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _lines_of(key: VerifierKey, checkpoint: Checkpoint) -> list[Signature]:
    return [s for s in checkpoint.signatures if s.name == key.name and s.key_id == key.key_id]


def _log_signature(checkpoint: Checkpoint, log_keys: Sequence[VerifierKey]) -> VerifierKey:
    """The trusted log key that signed the checkpoint, or why there is none."""
    named = [k for k in log_keys if k.type == NOTE_ED25519 and k.name == checkpoint.origin]
    if not named:
        expected = ", ".join(sorted({k.name for k in log_keys})) or "none"
        raise ReceiptError("wrong-log", f"the checkpoint is of the log {checkpoint.origin!r}; expected: {expected}")
    for key in named:
        for line in _lines_of(key, checkpoint):
            if _signed(key, line.signature, checkpoint.body.encode()):
                return key
            raise ReceiptError("bad-signature", f"the log's signature ({key.name}) does not verify")
    raise ReceiptError("unsigned", f"no signature by a trusted key of {checkpoint.origin} in the checkpoint")


def _cosigned(key: VerifierKey, checkpoint: Checkpoint) -> bool:
    for line in _lines_of(key, checkpoint):
        if len(line.signature) != 8 + 64:
            continue
        timestamp = int.from_bytes(line.signature[:8], "big")
        message = f"cosignature/v1\ntime {timestamp}\n{checkpoint.body}".encode()
        if timestamp < 2**63 and _signed(key, line.signature[8:], message):
            return True
    return False


def read_event(data: bytes) -> EventSummary:
    """The event whose canonical bytes these are; anything else is refused (code ``bad-event``)."""
    try:
        value = canonical.loads(data)
    except ValueError as exc:
        raise ReceiptError("bad-event", "the event bytes are not JSON") from exc
    fields = {"actor", "payload", "seq", "subject", "time", "type"}
    if not isinstance(value, dict) or set(value) != fields:
        raise ReceiptError("bad-event", "the event bytes are not an event of this ledger")
    seq, time, type_ = value["seq"], value["time"], value["type"]
    actor, subject, payload = value["actor"], value["subject"], value["payload"]
    tokens_ok = all(isinstance(v, str) and TOKEN.fullmatch(v) for v in (type_, actor, subject))
    if not (isinstance(seq, int) and seq >= 1 and isinstance(time, str) and TIME.fullmatch(time) and tokens_ok):
        raise ReceiptError("bad-event", "the event bytes are not an event of this ledger")
    if not isinstance(payload, dict) or event_bytes(seq, time, type_, actor, subject, canonical.dumps(payload)) != data:
        raise ReceiptError("bad-event", "the event bytes are not in canonical form")
    return EventSummary(seq, type_, time, actor, subject, payload)


def verify(
    data: bytes | str,
    log_keys: Sequence[VerifierKey],
    witness_keys: Sequence[VerifierKey] = (),
    min_witnesses: int = 0,
) -> Verified:
    """Verify a receipt offline against trusted log keys (their names are the logs' origins)
    and, optionally, witness keys. Raises :class:`ReceiptError` naming the first check that
    fails: ``malformed``, ``wrong-log``, ``unsigned``, ``bad-signature``, ``no-event``,
    ``not-included``, ``bad-event``, ``too-few-witnesses``."""
    receipt = parse(data)
    checkpoint = receipt.checkpoint
    log_key = _log_signature(checkpoint, log_keys)
    if receipt.extra is None:
        raise ReceiptError("no-event", "the receipt carries no event bytes (its extra line)")
    try:
        merkle.verify_inclusion(
            merkle.leaf_hash(receipt.extra), receipt.index, checkpoint.tree_size, receipt.proof, checkpoint.root_hash
        )
    except merkle.VerificationError as exc:
        where = f"entry {receipt.index} of the signed tree of {checkpoint.tree_size}"
        raise ReceiptError("not-included", f"the event is not {where}: {exc}") from exc
    event = read_event(receipt.extra)
    if event.seq != receipt.index + 1:
        raise ReceiptError("bad-event", f"event {event.seq} cannot be entry {receipt.index} (its seq - 1)")
    witnesses = tuple(k.name for k in witness_keys if k.type == COSIGNATURE_ED25519 and _cosigned(k, checkpoint))
    if len(witnesses) < min_witnesses:
        raise ReceiptError(
            "too-few-witnesses", f"{len(witnesses)} of the {min_witnesses} witness cosignatures required check out"
        )
    return Verified(event, checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash, log_key.text, witnesses)
