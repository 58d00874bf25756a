"""The log in the formats of C2SP transparency logs: checkpoints and tiles.

A *checkpoint* (c2sp.org/tlog-checkpoint) is a tree head as a signed note
(c2sp.org/signed-note): the log's name (its origin), the tree size in decimal and the
root hash in base64, one per line, then a blank line and an Ed25519 signature line.

*Tiles* (c2sp.org/tlog-tiles) serve the tree as static resources. A hash tile at level
``L`` lists up to 256 consecutive hashes of the tree's level ``8 * L``: at level 0 the
events' leaf hashes, above that the roots of full tiles of the level below. An *entry
bundle* holds the same events' canonical bytes (:func:`ledger.events.event_bytes`), each
behind its length as a big-endian uint16; a leaf hash is ``SHA-256(0x00 || bytes)``, the
``RecordHash`` of Go's golang.org/x/mod/sumdb/tlog. A full tile holds 256 hashes or
events and never changes; the rightmost tiles of a tree are partial (``.p/<W>``) and grow
into full ones.

Tiles are read from what the log stores: leaf hashes and events from ``ledger_event``,
higher levels from the stored perfect subtrees (``ledger_node``, every level from
:data:`ledger.models.STORED_FROM_LEVEL` up).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.events import MAX_EVENT_BYTES, Event
from ledger.models import LedgerEvent, LedgerNode

HEIGHT = 8
WIDTH = 1 << HEIGHT
"""A full tile's number of hashes (or an entry bundle's number of events)."""
MAX_LEVEL = 63
ENTRIES = -1
"""The level of entry bundles in a :class:`Tile` (``tile/entries/...`` in paths)."""

_LEVEL = re.compile(r"0|[1-9][0-9]?")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")
_PART = re.compile(r"x[0-9]{3}")
_LAST = re.compile(r"[0-9]{3}")


class TilePathError(ValueError):
    """A path that names no tile."""


class EntryTooLong(LookupError):
    """An entry bundle would hold an event recorded before events were limited to
    :data:`ledger.events.MAX_EVENT_BYTES`: its length does not fit the bundle's 2 bytes."""


@dataclass(frozen=True, slots=True)
class Tile:
    level: int
    """0..63 for hash tiles, :data:`ENTRIES` for entry bundles."""
    index: int
    width: int
    """1..255 for a partial tile, 256 for a full one."""

    @property
    def full(self) -> bool:
        return self.width == WIDTH

    @property
    def path(self) -> str:
        """``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]``, N in 3-digit parts."""
        n, parts = self.index, [f"{self.index % 1000:03d}"]
        while n >= 1000:
            n //= 1000
            parts.insert(0, f"x{n % 1000:03d}")
        level = "entries" if self.level == ENTRIES else str(self.level)
        suffix = "" if self.full else f".p/{self.width}"
        return f"tile/{level}/{'/'.join(parts)}{suffix}"

    def first_hash(self) -> int:
        """The index, among the hashes of its tree level, of the tile's first hash."""
        return self.index * WIDTH

    def within(self, tree_size: int) -> bool:
        """Whether a tree of ``tree_size`` events holds all of this tile's hashes."""
        level = max(self.level, 0)
        return self.first_hash() + self.width <= tree_size >> (HEIGHT * level)


def parse_path(path: str) -> Tile:
    """The tile a path names (without the leading ``tile/``), refusing every other spelling."""
    parts = path.split("/")
    if len(parts) < 2:
        raise TilePathError("a tile path is <level>/<index>[.p/<width>]")
    head, *numbers = parts
    if head == "entries":
        level = ENTRIES
    elif _LEVEL.fullmatch(head) and int(head) <= MAX_LEVEL:
        level = int(head)
    else:
        raise TilePathError("the level is entries or 0 to 63 without leading zeroes")
    width = WIDTH
    if len(numbers) >= 2 and numbers[-2].endswith(".p"):
        if not _WIDTH.fullmatch(numbers[-1]) or not 1 <= int(numbers[-1]) < WIDTH:
            raise TilePathError("a partial tile's width is 1 to 255 without leading zeroes")
        width = int(numbers[-1])
        numbers = [*numbers[:-2], numbers[-2][: -len(".p")]]
    if not _LAST.fullmatch(numbers[-1]) or not all(_PART.fullmatch(p) for p in numbers[:-1]):
        raise TilePathError("the index is written in 3-digit parts, all but the last behind an x")
    index = 0
    for part in numbers:
        index = index * 1000 + int(part.lstrip("x"))
    tile = Tile(level, index, width)
    if tile.path != "tile/" + path:  # x000 in front, say: one index, one spelling
        raise TilePathError(f"this tile's path is {tile.path}")
    return tile


def tiles_of(tree_size: int) -> list[Tile]:
    """Every hash tile of a tree (full and partial), lowest level first."""
    found: list[Tile] = []
    level = 0
    while (count := tree_size >> (HEIGHT * level)) > 0:
        found += [Tile(level, i, WIDTH) for i in range(count // WIDTH)]
        if count % WIDTH:
            found.append(Tile(level, count // WIDTH, count % WIDTH))
        level += 1
    return found


def read(session: Session, tile: Tile) -> bytes:
    """The tile's bytes: its hashes one after the other, or its events' length-prefixed
    canonical bytes. The caller has checked that the tree holds the whole tile."""
    first = tile.first_hash()
    if tile.level == ENTRIES:
        entries = [e.canonical_bytes for e in _events(session, tile)]
        too_long = [first + i + 1 for i, b in enumerate(entries) if len(b) > MAX_EVENT_BYTES]
        if too_long:
            raise EntryTooLong(f"event {too_long[0]} has more than {MAX_EVENT_BYTES:,} bytes: no bundle can hold it")
        return b"".join(len(b).to_bytes(2, "big") + b for b in entries)
    if tile.level == 0:
        rows = session.execute(
            select(col(LedgerEvent.leaf_hash))
            .where(col(LedgerEvent.seq) > first, col(LedgerEvent.seq) <= first + tile.width)
            .order_by(col(LedgerEvent.seq))
        ).scalars()
    else:
        rows = session.execute(
            select(col(LedgerNode.hash))
            .where(
                col(LedgerNode.level) == HEIGHT * tile.level,
                col(LedgerNode.idx) >= first,
                col(LedgerNode.idx) < first + tile.width,
            )
            .order_by(col(LedgerNode.idx))
        ).scalars()
    hashes = [bytes(h) for h in rows]
    if len(hashes) != tile.width:
        raise LookupError(f"{tile.path}: {len(hashes)} of its {tile.width} hashes are stored")
    return b"".join(hashes)


def _events(session: Session, tile: Tile) -> list[Event]:
    first = tile.first_hash()
    rows = session.execute(
        select(LedgerEvent)
        .where(col(LedgerEvent.seq) > first, col(LedgerEvent.seq) <= first + tile.width)
        .order_by(col(LedgerEvent.seq))
    ).scalars()
    events = [Event(r.seq, r.recorded_at, r.type, r.actor, r.subject, r.payload) for r in rows]
    if len(events) != tile.width:
        raise LookupError(f"{tile.path}: {len(events)} of its {tile.width} events are stored")
    return events


def checkpoint_text(origin: str, tree_size: int, root_hash: bytes) -> str:
    """The body of a checkpoint (no extension lines): what its signature covers."""
    return f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode()}\n"


def bundle_entries(data: bytes) -> list[bytes]:
    """The events' canonical bytes in an entry bundle (for auditors' scripts and tests)."""
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise ValueError("an entry bundle ends inside a length")
        n = int.from_bytes(data[at : at + 2], "big")
        if at + 2 + n > len(data):
            raise ValueError("an entry bundle ends inside an entry")
        entries.append(data[at + 2 : at + 2 + n])
        at += 2 + n
    return entries
