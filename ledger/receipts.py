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
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger import canonical, merkle, notes
from ledger.events import TIME, TOKEN, event_bytes
from ledger.notes import COSIGNATURE_V1, Checkpoint, NoteError, VerifierKey
from ledger.signing import NOTE_ED25519

HEADER = "c2sp.org/tlog-proof@v1"
SUFFIX = ".tlog-proof"
"""The file name extension tlog-proof recommends."""
MEDIA_TYPE = "text/plain; charset=utf-8"

_DECIMAL = re.compile("0|[1-9][0-9]{0,18}")
MAX_PROOF = 64


class ReceiptError(ValueError):
    """A receipt that does not verify; ``code`` says which check refused it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


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


def parse_verifier_key(text: str) -> VerifierKey:
    """A log's note key or a witness's cosignature/v1 key as signed-note writes it; a wrong
    id, type or length is refused (code ``bad-key``)."""
    try:
        return notes.parse_verifier_key(text.strip(), (NOTE_ED25519, COSIGNATURE_V1))
    except NoteError as exc:
        raise ReceiptError("bad-key", f"{text.strip()[:80]!r}: {exc}") from exc


def _base64(text: str, what: str) -> bytes:
    try:
        return notes.b64decode(text, what)
    except NoteError as exc:
        raise ReceiptError("malformed", str(exc)) from exc


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
    """The receipt's checkpoint, read by :func:`ledger.notes.parse_checkpoint` (code ``malformed``)."""
    try:
        return notes.parse_checkpoint(note)
    except NoteError as exc:
        raise ReceiptError("malformed", f"the checkpoint: {exc}") from exc


def _log_signature(checkpoint: Checkpoint, log_keys: Sequence[VerifierKey]) -> VerifierKey:
    """The trusted log key that signed the checkpoint, or why there is none."""
    named = [k for k in log_keys if k.type == NOTE_ED25519 and k.name == checkpoint.origin]
    if not named:
        expected = ", ".join(sorted({k.name for k in log_keys})) or "none"
        raise ReceiptError("wrong-log", f"the checkpoint is of the log {checkpoint.origin!r}; expected: {expected}")
    for key in named:
        if key.signed(checkpoint.note):
            return key
        if key.lines_in(checkpoint.note):
            raise ReceiptError("bad-signature", f"the log's signature ({key.name}) does not verify")
    raise ReceiptError("unsigned", f"no signature by a trusted key of {checkpoint.origin} in the checkpoint")


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
    witnesses = tuple(k.name for k in witness_keys if k.cosigned(checkpoint.note) is not None)
    if len(witnesses) < min_witnesses:
        raise ReceiptError(
            "too-few-witnesses", f"{len(witnesses)} of the {min_witnesses} witness cosignatures required check out"
        )
    return Verified(event, checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash, log_key.text, witnesses)
