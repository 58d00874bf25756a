"""What an event of the ledger of record is, and its canonical bytes (the leaf input).

An event's canonical bytes are the canonical JSON (see :mod:`ledger.canonical`) of::

    {"actor": ..., "payload": {...}, "seq": n, "subject": ..., "time": ..., "type": ...}

``type``, ``actor`` and ``subject`` are tokens (letters, digits and ``._:@/+-``), so
they need no JSON escaping and the bytes can be assembled without a JSON encoder; that
keeps verification of a million events fast. ``payload`` is stored as canonical JSON text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ledger import merkle

TOKEN = re.compile(r"[A-Za-z0-9._:@/+-]{1,120}")
TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00")


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
