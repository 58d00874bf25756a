"""Reading C2SP signed notes and checkpoints, as an outsider reads the log's.

A signed note (c2sp.org/signed-note) is a text ending in a newline, a blank line, and one
or more signature lines ``— <name> <base64(key hash || signature)>``. A reader trusts some
keys, each known by a *verifier key* ``<name>+<key hash hex>+<base64(0x01 || public key)>``
(:func:`ledger.signing.note_verifier_key`); signature lines of other keys (a witness's
cosignature, say) are not errors: they are set aside, as the specification asks.

A checkpoint (c2sp.org/tlog-checkpoint) is the text of such a note: the log's origin, the
tree size in decimal, the root hash in base64, then optional extension lines, which this
reader keeps but does not interpret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.merkle import HASH_SIZE
from ledger.signing import NOTE_ED25519, note_key_id, raw_public_key

SIGNATURE_PREFIX = "\u2014 "
"""An em dash and a space begin every signature line."""
MAX_SIGNATURES = 100
"""Go's golang.org/x/mod/sumdb/note refuses notes with more signature lines: so does this reader."""


class NoteError(ValueError):
    """Text that is not a well-formed signed note, checkpoint or verifier key."""


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

    @property
    def text(self) -> str:
        blob = base64.b64encode(bytes([NOTE_ED25519]) + raw_public_key(self.public_key)).decode()
        return f"{self.name}+{self.key_hash.hex()}+{blob}"

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the raw public key, its first 16 bytes in hex: the ``key_id`` that
        ``/ledger/public-key`` and ``/ledger/tree-head`` show."""
        return hashlib.sha256(raw_public_key(self.public_key)).hexdigest()[:32]

    def signed(self, note: Note) -> bool:
        """Whether one of the note's signature lines is this key's and verifies; a line of
        this key that does not verify makes the whole note false, as in Go's ``note.Open``."""
        found = False
        for sig in note.signatures:
            if sig.name != self.name or sig.key_hash != self.key_hash:
                continue
            try:
                self.public_key.verify(sig.signature, note.text.encode())
            except InvalidSignature:
                return False
            found = True
        return found


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
    return Note(body, tuple(_signature(line) for line in lines))


def _signature(line: str) -> Signature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError(f"a signature line begins with an em dash and a space: {line[:40]!r}")
    parts = line.removeprefix(SIGNATURE_PREFIX).split(" ")
    if len(parts) != 2 or not parts[0] or "+" in parts[0]:
        raise NoteError(f"a signature line is a key name and a base64 blob: {line[:40]!r}")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except binascii.Error as exc:
        raise NoteError(f"a signature line's blob is not base64: {line[:40]!r}") from exc
    if len(blob) < 5:
        raise NoteError(f"a signature line's blob is too short: {line[:40]!r}")
    return Signature(parts[0], blob[:4], blob[4:])


def parse_checkpoint(data: str | bytes) -> Checkpoint:
    """A checkpoint note's origin, size, root and extension lines (its signatures not checked)."""
    note = parse_note(data)
    lines = note.text.removesuffix("\n").split("\n")
    if len(lines) < 3 or not lines[0]:
        raise NoteError("a checkpoint's text is an origin, a tree size and a root hash, each on its line")
    size = lines[1]
    if not size.isascii() or not size.isdigit() or str(int(size)) != size:
        raise NoteError(f"a checkpoint's tree size is a decimal number without leading zeroes, not {size!r}")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except binascii.Error as exc:
        raise NoteError(f"a checkpoint's root hash is base64, not {lines[2]!r}") from exc
    if len(root) != HASH_SIZE:
        raise NoteError(f"a checkpoint's root hash has {HASH_SIZE} bytes, not {len(root)}")
    return Checkpoint(lines[0], int(size), root, tuple(lines[3:]), note)


def verifier_of(name: str, public_key: Ed25519PublicKey) -> VerifierKey:
    return VerifierKey(name, note_key_id(name, public_key), public_key)


def parse_verifier_key(text: str) -> VerifierKey:
    """A verifier key ``<name>+<key hash hex>+<base64(0x01 || Ed25519 public key)>``, its hash checked."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not parts[0]:
        raise NoteError("a verifier key is <name>+<key hash in hex>+<base64 key>")
    name, hash_hex, blob_text = parts
    try:
        key_hash, blob = bytes.fromhex(hash_hex), base64.b64decode(blob_text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteError("a verifier key's hash is hex and its key base64") from exc
    if len(blob) != 33 or blob[0] != NOTE_ED25519:
        raise NoteError("only Ed25519 verifier keys (type 1, 32 bytes) are read")
    key = verifier_of(name, Ed25519PublicKey.from_public_bytes(blob[1:]))
    if key.key_hash != key_hash:
        raise NoteError(f"the verifier key's hash {hash_hex} is not its key's ({key.key_hash.hex()})")
    return key
