"""Ed25519 signing of tree heads, and the key files that hold the signing key.

A signed tree head commits to ``(tree_size, root_hash, timestamp)``. The signed
bytes are the canonical JSON of ``{"root_hash": hex, "timestamp": iso, "tree_size": n}``
prefixed with :data:`HEAD_CONTEXT`, so a signature over a head can never be taken for a
signature over anything else.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger import canonical

HEAD_CONTEXT = b"coop-ledger-tree-head-v1\n"

NOTE_ED25519 = 1
"""The signature type byte of an Ed25519 key in a C2SP signed note."""
LOG_NAME = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?\.[a-z]{2,}(/[A-Za-z0-9._~-]+)*")
"""A log's name (its checkpoints' origin line and its note key's name): a domain name in
lower case with an optional path, no scheme and no trailing slash, like a tlog-tiles URL
prefix. It always holds a dot, so a note can never be read as a tree head or a statement,
whose signed bytes begin with a dotless context line."""


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    tree_size: int
    root_hash: bytes
    timestamp: str
    key_id: str
    signature: bytes


def head_message(tree_size: int, root_hash: bytes, timestamp: str) -> bytes:
    """The exact bytes a tree head signature covers."""
    body = {"root_hash": root_hash.hex(), "timestamp": timestamp, "tree_size": tree_size}
    return HEAD_CONTEXT + canonical.encode(body)


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: hex of the first 16 bytes of its SHA-256."""
    return hashlib.sha256(raw_public_key(key)).hexdigest()[:32]


class Signer:
    """Signs tree heads with one Ed25519 private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    def sign(self, tree_size: int, root_hash: bytes, timestamp: str) -> SignedTreeHead:
        signature = self._key.sign(head_message(tree_size, root_hash, timestamp))
        return SignedTreeHead(tree_size, root_hash, timestamp, self.key_id, signature)

    def sign_statement(self, context: bytes, message: bytes) -> bytes:
        """Sign a document other than a tree head; ``context`` keeps the two apart."""
        if not context.endswith(b"\n") or context == HEAD_CONTEXT:
            raise ValueError("a statement context is a distinct line ending in a newline")
        return self._key.sign(context + message)

    def sign_note(self, log_name: str, text: str) -> str:
        """The C2SP signed note of ``text`` (which ends in a newline), signed as ``log_name``:
        the text, a blank line and one signature line. Ed25519 is deterministic, so one text
        always gives the same note."""
        if not text.endswith("\n") or not LOG_NAME.fullmatch(log_name):
            raise ValueError("a note's text ends in a newline and its signer is named as a log")
        signature = self._key.sign(text.encode())
        blob = base64.b64encode(note_key_id(log_name, self.public_key) + signature).decode()
        return f"{text}\n\u2014 {log_name} {blob}\n"

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


def note_key_id(log_name: str, key: Ed25519PublicKey) -> bytes:
    """A signed note's key id: the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key)."""
    return hashlib.sha256(log_name.encode() + b"\n" + bytes([NOTE_ED25519]) + raw_public_key(key)).digest()[:4]


def note_verifier_key(log_name: str, key: Ed25519PublicKey) -> str:
    """The verifier key of a signed note, ``<name>+<key id hex>+<base64(0x01 || public key)>``,
    as Go's golang.org/x/mod/sumdb/note and other note verifiers read it."""
    blob = base64.b64encode(bytes([NOTE_ED25519]) + raw_public_key(key)).decode()
    return f"{log_name}+{note_key_id(log_name, key).hex()}+{blob}"


def verify_head(head: SignedTreeHead, public_key: Ed25519PublicKey) -> bool:
    try:
        public_key.verify(head.signature, head_message(head.tree_size, head.root_hash, head.timestamp))
    except InvalidSignature:
        return False
    return True


def generate_key_file(path: Path) -> None:
    """Write a new private key (PKCS#8 PEM, readable by the owner only)."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=False)
    path.write_bytes(pem)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        return load_private_key(path).public_key()
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} does not hold an Ed25519 public key")
    return key
