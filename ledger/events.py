"""What an event of the ledger of record is, and its canonical bytes (the leaf input).

An event's canonical bytes are the canonical JSON (see :mod:`ledger.canonical`) of::

    {"actor": ..., "payload": {...}, "seq": n, "subject": ..., "time": ..., "type": ...}

``type``, ``actor`` and ``subject`` are tokens (letters, digits and ``._:@/+-``), so
they need no JSON escaping and the bytes can be assembled without a JSON encoder; that
keeps verification of a million events fast. ``payload`` is stored as canonical JSON text.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ledger import merkle

TOKEN_ALPHABET = string.ascii_letters + string.digits + "._:@/+-"
TOKEN_LENGTH = 120
MAX_EVENT_BYTES = 65_535
"""The most canonical bytes an event may have: an entry of a tlog-tiles entry bundle is
prefixed by its length as a big-endian uint16 (see :mod:`ledger.tiles`)."""
TOKEN = re.compile(f"[{re.escape(TOKEN_ALPHABET)}]{{1,{TOKEN_LENGTH}}}")
TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}\+00:00")
_TOKEN_BYTES = TOKEN_ALPHABET.encode()


class EventError(ValueError):
    """An event that cannot be recorded as given."""


def check_token(name: str, value: str) -> str:
    if not isinstance(value, str) or not TOKEN.fullmatch(value):
        raise EventError(f"{name} must be 1-120 characters of letters, digits and ._:@/+-; got {value!r}")
    return value


def format_time(at: datetime) -> str:
    """Event times: UTC, microseconds, explicit offset (ISO 8601)."""
    if at.tzinfo is None:
        raise EventError("event times must carry a time zone")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_bytes(seq: int, time: str, type: str, actor: str, subject: str, payload: str) -> bytes:
    """The canonical bytes of an event whose parts are already checked."""
    return (
        f'{{"actor":"{actor}","payload":{payload},"seq":{seq},"subject":"{subject}","time":"{time}","type":"{type}"}}'
    ).encode()


def check_size(data: bytes) -> bytes:
    """Refuse an event whose canonical bytes an entry bundle cannot hold."""
    if len(data) > MAX_EVENT_BYTES:
        raise EventError(
            f"an event may have at most {MAX_EVENT_BYTES:,} bytes in canonical form (the ledger serves each "
            f"event behind a 2-byte length); this one has {len(data):,}"
        )
    return data


def leaf_hashes(rows: Sequence[tuple[int, str, str, str, str, str, bytes]]) -> list[bytes]:
    """The leaf hashes of streamed events ``(seq, time, type, actor, subject, payload, ...)``:
    :func:`event_bytes` behind the leaf prefix, written out once more so that a million
    events cost one string format and one hash each."""
    sha256 = hashlib.sha256
    return [
        sha256(
            f'\x00{{"actor":"{actor}","payload":{payload},"seq":{seq},"subject":"{subject}","time":"{time}",'
            f'"type":"{typ}"}}'.encode()
        ).digest()
        for seq, time, typ, actor, subject, payload, _ in rows
    ]


def well_formed(times: Sequence[str], *tokens: Sequence[str]) -> bool:
    """Whether every time has the event time form and every token is one: a batch at a
    time, each column joined and checked in a few passes over the joined text."""
    if times and not _times_well_formed(times):
        return False
    for column in tokens:
        if not column:
            continue
        joined = "\n".join(column)
        if not joined.isascii() or joined.encode().translate(None, _TOKEN_BYTES) != b"\n" * (len(column) - 1):
            return False
        if "" in column or max(map(len, column)) > TOKEN_LENGTH:
            return False
    return True


_TIME_FORM = "0000-00-00T00:00:00.000000+00:00"
"""An event time's form: ``0`` stands for any digit, except in the fixed offset."""
_TIME_FIXED = [(i, c) for i, c in enumerate(_TIME_FORM) if c != "0" or i >= _TIME_FORM.index("+")]
_TIME_SKELETON = "".join(c for c in _TIME_FORM if not c.isdigit()) + "\n"


def _times_well_formed(times: Sequence[str]) -> bool:
    """:data:`TIME` for a batch: with the times joined one per line, every line has the form's
    length, its fixed characters where the form has them, and ASCII digits everywhere else."""
    n, width = len(times), len(_TIME_FORM) + 1
    joined = "\n".join(times) + "\n"
    if len(joined) != width * n or not joined.isascii() or joined[width - 1 :: width] != "\n" * n:
        return False
    if any(joined[i::width] != c * n for i, c in _TIME_FIXED):
        return False
    return joined.encode().translate(None, b"0123456789") == _TIME_SKELETON.encode() * n


@dataclass(frozen=True, slots=True)
class Event:
    """A recorded event, as read back from the ledger."""

    seq: int
    time: str
    type: str
    actor: str
    subject: str
    payload: str

    @property
    def canonical_bytes(self) -> bytes:
        return event_bytes(self.seq, self.time, self.type, self.actor, self.subject, self.payload)

    @property
    def leaf_hash(self) -> bytes:
        return merkle.leaf_hash(self.canonical_bytes)

    @property
    def leaf_index(self) -> int:
        return self.seq - 1
