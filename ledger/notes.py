"""Reading C2SP signed notes, checkpoints and verifier keys: the one reader of the log's
notes, for the auditor, the witness client and the receipts verifier alike.

A signed note (c2sp.org/signed-note) is a text ending in a newline, a blank line, and one
or more signature lines ``— <name> <base64(key hash || signature)>``. A reader trusts some
keys, each known by a *verifier key* ``<name>+<key hash hex>+<base64(type || public key)>``:
an Ed25519 note key (type 0x01, :func:`ledger.signing.note_verifier_key`) that signs the
note's text, or a witness's Ed25519 cosigner key (type 0x04, c2sp.org/tlog-cosignature) whose
``cosignature/v1`` line signs ``cosignature/v1``, ``time <timestamp>`` and the text. Signature
lines of other keys are not errors: they are set aside, as the specification asks.

A checkpoint (c2sp.org/tlog-checkpoint) is the text of such a note: the log's origin, the
tree size in decimal, the root hash in base64, then optional extension lines, which this
reader keeps but does not interpret.

The reader is strict on every point where a lenient one could be fooled or disagree with
another: UTF-8 without control characters but newlines; a final newline; at most
:data:`MAX_SIGNATURES` signature lines and no two of the same key; key names without spaces
or ``+``; base64 in its one standard form; key hashes as 8 lower-case hex digits; tree sizes
without leading zeroes and below 10^19; no empty checkpoint line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.merkle import HASH_SIZE
from ledger.signing import NOTE_ED25519, raw_public_key

COSIGNATURE_V1 = 4
"""The signature type byte of an Ed25519 cosigner (tlog-cosignature)."""
SIGNATURE_PREFIX = "\u2014 "
"""An em dash and a space begin every signature line."""
MAX_SIGNATURES = 100
"""Go's golang.org/x/mod/sumdb/note refuses notes with more signature lines: so does this reader."""
MAX_TIMESTAMP = 253_402_300_799
"""A cosignature's latest time, the last second of the year 9999: a later one is refused, as no
calendar its readers use holds it."""
MAX_TREE_SIZE = 2**63 - 1
"""The largest tree size read (Go's tlog reads sizes as int64)."""
_NAME = re.compile(r"[^\s+]+")
_KEY_HASH = re.compile("[0-9a-f]{8}")
_DECIMAL = re.compile("0|[1-9][0-9]{0,18}")


class NoteError(ValueError):
    """Text that is not a well-formed signed note, checkpoint, verifier key or signature."""


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    key_hash: bytes
    """The first 4 bytes of the signature's blob: which key of ``name`` signed."""
    signature: bytes
    """The rest of the blob (for an Ed25519 key, 64 bytes; a cosignature carries a time first)."""


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    signatures: tuple[Signature, ...]


@dataclass(frozen=True, slots=True)
class VerifierKey:
    name: str
    key_hash: bytes
    public_key: Ed25519PublicKey
    type: int = NOTE_ED25519
    """:data:`~ledger.signing.NOTE_ED25519` for a log's note key, :data:`COSIGNATURE_V1` for a witness's."""

    @property
    def text(self) -> str:
        blob = base64.b64encode(bytes([self.type]) + raw_public_key(self.public_key)).decode()
        return f"{self.name}+{self.key_hash.hex()}+{blob}"

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the raw public key, its first 16 bytes in hex: the ``key_id`` that
        ``/ledger/public-key`` and ``/ledger/tree-head`` show."""
        return hashlib.sha256(raw_public_key(self.public_key)).hexdigest()[:32]

    def lines_in(self, note: Note) -> list[Signature]:
        return [s for s in note.signatures if s.name == self.name and s.key_hash == self.key_hash]

    def signed(self, note: Note) -> bool:
        """Whether this note key's signature line is in the note and verifies."""
        if self.type != NOTE_ED25519:
            return False
        return any(_verifies(self.public_key, s.signature, note.text.encode()) for s in self.lines_in(note))

    def cosigned(self, note: Note) -> int | None:
        """The time of this cosigner's valid ``cosignature/v1`` of the note, or None."""
        for line in self.lines_in(note):
            try:
                return verify_cosignature(self, line, note.text)
            except NoteError:
                return None
        return None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...]
    note: Note

    def signature_problem(self, trusted: Mapping[str, Ed25519PublicKey]) -> str | None:
        """Why no trusted key signed this checkpoint as its log (its origin), or None when one did."""
        for public_key in trusted.values():
            if verifier_of(self.origin, public_key).signed(self.note):
                return None
        return f"has no valid signature of a trusted key as {self.origin}"


def _verifies(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def b64decode(text: str, what: str) -> bytes:
    """Standard base64 in its one canonical form (padding, no stray bits), else :class:`NoteError`."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"{what} is not base64") from exc
    if base64.b64encode(data).decode() != text:
        raise NoteError(f"{what} is not written in standard base64")
    return data


def parse_note(data: str | bytes) -> Note:
    """A signed note's text and signature lines (nothing verified yet)."""
    try:
        text = data.decode() if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise NoteError("a signed note is UTF-8 text") from exc
    if any(c < " " and c != "\n" for c in text):
        raise NoteError("a signed note holds no control characters but newlines")
    split = text.rfind("\n\n")
    if split < 0 or not text.endswith("\n"):
        raise NoteError("a signed note is its text, a blank line and its signature lines")
    body, lines = text[: split + 1], text[split + 2 :].removesuffix("\n").split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a signed note has at most {MAX_SIGNATURES} signature lines")
    signatures = tuple(parse_signature_line(line) for line in lines)
    if len({(s.name, s.key_hash) for s in signatures}) != len(signatures):
        raise NoteError("a signed note has at most one signature line of each key")
    return Note(body, signatures)


def parse_signature_line(line: str) -> Signature:
    """One line ``— <name> <base64(key hash || signature)>``, else :class:`NoteError`."""
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError(f"a signature line begins with an em dash and a space: {line[:40]!r}")
    parts = line.removeprefix(SIGNATURE_PREFIX).split(" ")
    if len(parts) != 2 or not _NAME.fullmatch(parts[0]):
        raise NoteError(f"a signature line is a key name and a base64 blob: {line[:40]!r}")
    blob = b64decode(parts[1], f"the signature of {parts[0]}")
    if len(blob) < 5:
        raise NoteError(f"the signature of {parts[0]} is too short")
    return Signature(parts[0], blob[:4], blob[4:])


def parse_checkpoint(data: str | bytes) -> Checkpoint:
    """A checkpoint note's origin, size, root and extension lines (its signatures not checked)."""
    note = parse_note(data)
    lines = note.text.removesuffix("\n").split("\n")
    if len(lines) < 3 or not all(lines):
        raise NoteError("a checkpoint's text is an origin, a tree size and a root hash, each on its line, none empty")
    size = lines[1]
    if not _DECIMAL.fullmatch(size) or int(size) > MAX_TREE_SIZE:
        raise NoteError(
            f"a checkpoint's tree size is a decimal number without leading zeroes up to 2^63-1, not {size[:40]!r}"
        )
    root = b64decode(lines[2], "a checkpoint's root hash")
    if len(root) != HASH_SIZE:
        raise NoteError(f"a checkpoint's root hash has {HASH_SIZE} bytes, not {len(root)}")
    return Checkpoint(lines[0], int(size), root, tuple(lines[3:]), note)


def key_hash(name: str, type: int, public_key: Ed25519PublicKey) -> bytes:
    """A key's hash (its id): the first 4 bytes of SHA-256(name || 0x0A || type || public key)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([type]) + raw_public_key(public_key)).digest()[:4]


def verifier_of(name: str, public_key: Ed25519PublicKey, type: int = NOTE_ED25519) -> VerifierKey:
    return VerifierKey(name, key_hash(name, type, public_key), public_key, type)


def parse_verifier_key(text: str, types: Collection[int] = (NOTE_ED25519,)) -> VerifierKey:
    """A verifier key ``<name>+<key hash hex>+<base64(type || Ed25519 public key)>`` of one of
    ``types`` (by default a note key), its hash checked."""
    parts = text.split("+", 2)  # the name holds no '+'; base64 may
    if len(parts) != 3 or not _NAME.fullmatch(parts[0]) or not _KEY_HASH.fullmatch(parts[1]):
        raise NoteError("a verifier key is <name>+<key hash: 8 hex digits>+<base64 key>")
    name, hash_hex, blob_text = parts
    blob = b64decode(blob_text, "a verifier key's key")
    if len(blob) != 33 or blob[0] not in types:
        kinds = " or ".join(f"{t:#04x}" for t in sorted(types))
        raise NoteError(f"{name}: only Ed25519 verifier keys of type {kinds} and 32 bytes are read here")
    key = verifier_of(name, Ed25519PublicKey.from_public_bytes(blob[1:]), blob[0])
    if key.key_hash.hex() != hash_hex:
        raise NoteError(f"{name}: the key hash {hash_hex} is not its name and key's ({key.key_hash.hex()})")
    return key


def cosigned_message(timestamp: int, text: str) -> bytes:
    """The bytes a ``cosignature/v1`` at ``timestamp`` over a checkpoint's text signs."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def verify_cosignature(key: VerifierKey, signature: Signature, text: str) -> int:
    """The time of ``signature`` when it is a valid ``cosignature/v1`` of ``key`` over the note
    text ``text`` (timestamp, 8 bytes big-endian, then the Ed25519 signature); else :class:`NoteError`."""
    if key.type != COSIGNATURE_V1 or (signature.name, signature.key_hash) != (key.name, key.key_hash):
        raise NoteError(f"not a cosignature/v1 of {key.name}")
    if len(signature.signature) != 8 + 64:
        raise NoteError(f"the cosignature of {key.name} is not a timestamp and an Ed25519 signature")
    timestamp = int.from_bytes(signature.signature[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        raise NoteError(f"the cosignature of {key.name} has a timestamp out of range")
    if not _verifies(key.public_key, signature.signature[8:], cosigned_message(timestamp, text)):
        raise NoteError(f"the cosignature of {key.name} does not verify")
    return timestamp


@dataclass(frozen=True, slots=True)
class Cosignature:
    """A verified cosignature: the cosigner's time (seconds since the epoch) and its line."""

    timestamp: int
    line: str


def cosignatures_in(key: VerifierKey, response: str, text: str) -> list[Cosignature]:
    """The lines of a witness's answer (signature lines, c2sp.org/tlog-witness) that are valid
    cosignatures of this cosigner over the note text ``text``; other lines are set aside."""
    found = []
    for line in response.splitlines():
        try:
            found.append(Cosignature(verify_cosignature(key, parse_signature_line(line), text), line))
        except NoteError:
            continue
    return found
