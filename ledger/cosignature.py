"""Witnesses' cosignatures on the log's checkpoints (c2sp.org/tlog-cosignature, Ed25519
``cosignature/v1``).

A cosigner is known by its verifier key, ``<name>+<key id hex>+base64(0x04 || public key)``.
Its cosignature is a signed-note signature line, ``— <name> base64(key id || timestamp ||
signature)``, whose Ed25519 signature covers ``cosignature/v1``, ``time <timestamp>`` and the
checkpoint's body (the note's text without its signature lines). A witness that cosigns
states that, at that time, this is the largest tree of the log it has seen, consistent with
every earlier one it saw.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.signing import raw_public_key

COSIGNATURE_V1 = 4
"""The signature type byte of an Ed25519 cosigner (tlog-cosignature)."""
HEADER = "cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
DASH = "\u2014 "


class CosignatureError(ValueError):
    """A verifier key or a cosignature line that does not hold."""


@dataclass(frozen=True, slots=True)
class Cosigner:
    """A witness's name and Ed25519 public key, as its verifier key gives them."""

    name: str
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return cosigner_key_id(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        blob = base64.b64encode(bytes([COSIGNATURE_V1]) + raw_public_key(self.public_key)).decode()
        return f"{self.name}+{self.key_id.hex()}+{blob}"


@dataclass(frozen=True, slots=True)
class Cosignature:
    """A verified cosignature: the cosigner's time (seconds since the epoch) and its line."""

    timestamp: int
    line: str


def cosigner_key_id(name: str, key: Ed25519PublicKey) -> bytes:
    """SHA-256(name || 0x0A || 0x04 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([COSIGNATURE_V1]) + raw_public_key(key)).digest()[:4]


def parse_vkey(vkey: str) -> Cosigner:
    """The cosigner of a ``cosignature/v1`` verifier key; :class:`CosignatureError` when the
    key is malformed, of another type, or its key id does not match its name and key."""
    parts = vkey.split("+", 2)  # the name holds no '+'; base64 may
    if len(parts) != 3 or not parts[0] or any(c.isspace() for c in parts[0]):
        raise CosignatureError("a verifier key is <name>+<key id in hex>+<base64 key>")
    name, key_id_hex, rest = parts
    try:
        blob = base64.b64decode(rest, validate=True)
        key_id = bytes.fromhex(key_id_hex)
    except (binascii.Error, ValueError) as exc:
        raise CosignatureError("the key id is not hex or the key is not base64") from exc
    if len(blob) != 33 or blob[0] != COSIGNATURE_V1:
        raise CosignatureError("not an Ed25519 cosignature/v1 key (type 0x04 and 32 bytes)")
    cosigner = Cosigner(name, Ed25519PublicKey.from_public_bytes(blob[1:]))
    if len(key_id) != 4 or key_id != cosigner.key_id:
        raise CosignatureError("the key id does not match the name and key")
    return cosigner


def signed_message(timestamp: int, body: str) -> bytes:
    """The bytes a cosignature at ``timestamp`` over the checkpoint body ``body`` signs."""
    return f"{HEADER}time {timestamp}\n{body}".encode()


def note_body(note: str) -> str:
    """The text of a signed note: everything before the blank line that starts its signatures."""
    body, sep, _signatures = note.partition("\n\n")
    if not sep:
        raise CosignatureError("a signed note has a blank line before its signatures")
    return body + "\n"


def verify_line(cosigner: Cosigner, line: str, body: str) -> Cosignature:
    """The cosignature in ``line`` when it is this cosigner's, over ``body``; else :class:`CosignatureError`."""
    if not line.startswith(DASH) or line.count(" ") != 2:
        raise CosignatureError("a signature line is '— <name> <base64>'")
    _dash, name, blob_b64 = line.split(" ")
    if name != cosigner.name:
        raise CosignatureError(f"signed by {name!r}, not {cosigner.name!r}")
    try:
        blob = base64.b64decode(blob_b64, validate=True)
    except binascii.Error as exc:
        raise CosignatureError("the signature is not base64") from exc
    if len(blob) != 4 + 8 + 64 or blob[:4] != cosigner.key_id:
        raise CosignatureError("not a cosignature/v1 of this cosigner's key")
    (timestamp,) = struct.unpack(">Q", blob[4:12])
    if timestamp > MAX_TIMESTAMP:
        raise CosignatureError("the timestamp is out of range")
    try:
        cosigner.public_key.verify(blob[12:], signed_message(timestamp, body))
    except InvalidSignature as exc:
        raise CosignatureError("the cosignature does not verify") from exc
    return Cosignature(timestamp, line)


def cosignatures_in(cosigner: Cosigner, response: str, body: str) -> list[Cosignature]:
    """The lines of a witness's answer that are valid cosignatures of this cosigner over ``body``."""
    found = []
    for line in response.splitlines():
        try:
            found.append(verify_line(cosigner, line, body))
        except CosignatureError:
            continue
    return found
