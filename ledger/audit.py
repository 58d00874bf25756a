"""Auditing the log from its tiles alone, with no database: the tree behind a checkpoint.

Given a checkpoint whose signature the caller checked and a way to read tiles
(c2sp.org/tlog-tiles), :func:`audit_tree` reads every entry bundle and level 0 hash tile
in order and checks that every entry hashes to its leaf (``SHA-256(0x00 || bytes)``) and is
the canonical event with its sequence number (canonical JSON, the six fields of
:func:`ledger.events.event_bytes`, tokens and time in their forms); then every hash tile
above level 0 against the full tiles below it (each hash the root of its full tile, as
recomputed from the leaves); and the root of the whole tree against the checkpoint.

With an earlier checkpoint of the same log (one the auditor saved), it also recomputes the
root of the tree's first ``earlier.tree_size`` leaves while the leaves stream by: a shorter
log is :class:`Truncated`, a different root :class:`Rewritten`. A rewrite is reported only
when the new tree itself verifies, so a fault in serving is never taken for one.

Memory is O(tree size / 256): the roots of full tiles, nothing per event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ledger import canonical, merkle
from ledger.events import TIME, TOKEN, well_formed
from ledger.notes import Checkpoint
from ledger.tiles import ENTRIES, HEIGHT, WIDTH, Tile, bundle_entries

TileReader = Callable[[Iterable[Tile]], Iterable[bytes]]
"""Reads tiles, yielding their bytes in the order asked (it may fetch ahead meanwhile). The tiles
come one by one, as the reader takes them: a checkpoint may claim more than memory holds."""

EVENT_FIELDS = ("actor", "payload", "seq", "subject", "time", "type")
_FIELDS = set(EVENT_FIELDS)


class AuditFailure(Exception):
    """The log fails the audit: a message naming what and where."""


class DoesNotVerify(AuditFailure):
    """The tiles do not hold the tree the checkpoint signs (an entry, a tile or the root)."""


class Truncated(AuditFailure):
    """The log is shorter than a checkpoint saved earlier."""


class Rewritten(AuditFailure):
    """The log's first events no longer give the root of a checkpoint saved earlier."""


@dataclass(frozen=True, slots=True)
class AuditReport:
    tree_size: int
    root_hash: bytes
    tiles: int
    """Hash tiles and entry bundles read."""
    consistent_with: int | None
    """The size of the earlier checkpoint the tree extends, if one was given."""
    reused: int
    """Full level 0 tiles verified by an earlier audit, not fetched again."""
    verified: dict[int, bytes]
    """The full level 0 hash tiles this audit fetched and verified, by index (for the next)."""


class _FullTiles:
    """The tree over the roots of full level 0 tiles (level 8 nodes), kept as a compact
    range, and every node of a tile level above as it completes: the hashes the higher hash
    tiles must hold."""

    def __init__(self) -> None:
        self.stack: list[bytes] = []
        self.count = 0
        self.above: dict[int, list[bytes]] = {}

    def push(self, tile_root: bytes) -> None:
        self.above.setdefault(1, []).append(tile_root)
        index, height, h = self.count, 0, tile_root
        while index & 1:
            h = merkle.node_hash(self.stack.pop(), h)
            index, height = index >> 1, height + 1
            if height % HEIGHT == 0:
                self.above.setdefault(1 + height // HEIGHT, []).append(h)
        self.stack.append(h)
        self.count += 1

    def root_with(self, tail: Sequence[bytes]) -> bytes:
        """The root of the full tiles so far followed by ``tail`` (fewer than 256 leaf hashes)."""
        parts = [merkle.root_by_levels(tail[i << lv : (i + 1) << lv]) for lv, i in merkle.perfect_nodes(0, len(tail))]
        return merkle.fold([*self.stack, *parts])


def level0_tiles(tree_size: int) -> Iterator[Tile]:
    """The level 0 hash tiles of a tree, left to right, one at a time (a signed checkpoint may
    claim up to 2^64 - 1 events: the audit fails at the first tile the log does not serve)."""
    full, rest = divmod(tree_size, WIDTH)
    yield from (Tile(0, i, WIDTH) for i in range(full))
    if rest:
        yield Tile(0, full, rest)


def _no_float(literal: str) -> Any:
    raise canonical.CanonicalJsonError(f"float {literal} in canonical JSON")


_DECODER = json.JSONDecoder(parse_float=_no_float, parse_constant=_no_float)
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
"""canonical.loads and canonical.dumps, made once: a million events are parsed at a time."""


def events_problem(entries: Sequence[bytes], first_seq: int) -> tuple[int, str] | None:
    """The first entry that is not the canonical bytes of its event (the event with sequence number
    ``first_seq + index``), and why; None when all are. Tokens and times are checked a batch at a time."""
    values: list[dict[str, Any]] = []
    for j, entry in enumerate(entries):
        seq = first_seq + j
        try:
            value = _DECODER.decode(entry.decode())
        except ValueError as exc:
            return j, f"is not canonical JSON ({exc})"
        if not isinstance(value, dict) or value.keys() != _FIELDS:
            return j, f"is not an event: its fields are not {', '.join(EVENT_FIELDS)}"
        if type(value["seq"]) is not int or value["seq"] != seq:
            return j, f"has sequence number {value['seq']!r} where {seq} belongs"
        if not isinstance(value["payload"], dict):
            return j, "has a payload that is not an object"
        if not all(isinstance(value[k], str) for k in ("time", "type", "actor", "subject")):
            return j, "has a time, type, actor or subject that is not a string"
        # ASCII keys sort the same in code points and UTF-16: the canonical form is then one encoding
        ascii_keys = entry.isascii() or _ascii_keys(value["payload"])
        if not ascii_keys or _ENCODER.encode(value).encode() != entry:
            return j, "is not in canonical form"
        values.append(value)
    times = [v["time"] for v in values]
    columns = [[v[k] for v in values] for k in ("type", "actor", "subject")]
    if not well_formed(times, *columns):
        for j, v in enumerate(values):
            if not TIME.fullmatch(v["time"]):
                return j, f"has a time {v['time']!r} not in the events' form"
            if not all(TOKEN.fullmatch(v[k]) for k in ("type", "actor", "subject")):
                return j, "has a type, actor or subject that is not a token"
    return None


def _ascii_keys(value: Any) -> bool:
    if isinstance(value, dict):
        return all(k.isascii() and _ascii_keys(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_ascii_keys(v) for v in value)
    return True


def event_problem(entry: bytes, seq: int) -> str | None:
    """Why ``entry`` is not the canonical bytes of an event with sequence number ``seq``, or None."""
    found = events_problem([entry], seq)
    return None if found is None else found[1]


def audit_tree(
    checkpoint: Checkpoint,
    read: TileReader,
    earlier: Checkpoint | None = None,
    progress: Callable[[int], None] | None = None,
    known: Callable[[int], bytes | None] | None = None,
) -> AuditReport:
    """Check the tree ``checkpoint`` signs, tile by tile, and that it extends ``earlier``.

    ``known`` gives the bytes of full level 0 hash tiles a passing audit verified before (with
    their entries), which are then neither fetched nor checked again: full tiles never change.
    Every root is still recomputed from every leaf hash. Raises :class:`DoesNotVerify`,
    :class:`Truncated` or :class:`Rewritten`; ``progress`` is told how many events each step
    checked."""
    size = checkpoint.tree_size
    if earlier is not None and earlier.tree_size > size:
        raise Truncated(
            f"the log was truncated: it now holds {size:,} events, fewer than the {earlier.tree_size:,} "
            "of the checkpoint saved earlier"
        )
    full, count = _FullTiles(), 0
    tail: Sequence[bytes] = []
    old_root: bytes | None = None
    if earlier is not None and earlier.tree_size == 0:
        old_root = merkle.EMPTY_ROOT
    decided: dict[int, bytes | None] = {}
    """Kept tiles' bytes (None: not kept), from when one of the two walks below asks until the other does."""

    def kept(tile: Tile) -> bytes | None:
        """A full tile an earlier audit verified; each walk asks once per tile, in either order."""
        if not tile.full or known is None:
            return None
        if tile.index in decided:
            return decided.pop(tile.index)
        decided[tile.index] = found = known(tile.index)
        return found

    def wanted() -> Iterator[Tile]:
        for tile in level0_tiles(size):
            if kept(tile) is None:
                yield from (tile, Tile(ENTRIES, tile.index, tile.width))

    data = iter(read(wanted()))
    verified: dict[int, bytes] = {}
    reused = 0
    for tile in level0_tiles(size):
        if (earlier_bytes := kept(tile)) is not None:
            reused += 1
            hashes = _hash_tile(tile, earlier_bytes)
        else:
            hashes = _hash_tile(tile, tile_data := next(data))
            _check_entries(tile, next(data), hashes)
            count += 2
            if tile.full:
                verified[tile.index] = tile_data
        first = tile.first_hash()
        if earlier is not None and first < earlier.tree_size <= first + tile.width:
            old_root = full.root_with(hashes[: earlier.tree_size - first])
        if tile.full:
            full.push(merkle.root_by_levels(hashes))
        else:
            tail = hashes
        if progress is not None:
            progress(tile.width)
    count += _check_levels_above(size, full, read)
    root = full.root_with(tail)
    if root != checkpoint.root_hash:
        raise DoesNotVerify(
            f"the tiles' leaf hashes give the root {root.hex()}, the checkpoint signs {checkpoint.root_hash.hex()}"
        )
    if earlier is not None and old_root != earlier.root_hash:
        raise Rewritten(
            f"the log was rewritten: its first {earlier.tree_size:,} events no longer give the root of the "
            f"checkpoint saved earlier ({earlier.root_hash.hex()}), though the new checkpoint is signed"
        )
    return AuditReport(size, root, count, earlier.tree_size if earlier is not None else None, reused, verified)


def _hash_tile(tile: Tile, data: bytes) -> list[bytes]:
    if len(data) != tile.width * merkle.HASH_SIZE:
        raise DoesNotVerify(f"{tile.path} has {len(data)} bytes, not {tile.width} hashes of {merkle.HASH_SIZE}")
    return [data[i : i + merkle.HASH_SIZE] for i in range(0, len(data), merkle.HASH_SIZE)]


def _check_entries(tile: Tile, data: bytes, hashes: Sequence[bytes]) -> None:
    bundle = Tile(ENTRIES, tile.index, tile.width)
    try:
        entries = bundle_entries(data)
    except ValueError as exc:
        raise DoesNotVerify(f"{bundle.path}: {exc}") from exc
    if len(entries) != tile.width:
        raise DoesNotVerify(f"{bundle.path} holds {len(entries)} entries, not {tile.width}")
    sha256 = hashlib.sha256
    leaves = [sha256(b"\x00" + e).digest() for e in entries]
    first = tile.first_hash()
    if leaves != list(hashes):
        j = next(j for j, (a, b) in enumerate(zip(leaves, hashes, strict=True)) if a != b)
        raise DoesNotVerify(
            f"event {first + j + 1}: its bytes in {bundle.path} do not hash to its leaf hash in {tile.path}"
        )
    if (found := events_problem(entries, first + 1)) is not None:
        raise DoesNotVerify(f"event {first + found[0] + 1} in {bundle.path} {found[1]}")


def _check_levels_above(size: int, full: _FullTiles, read: TileReader) -> int:
    """Every hash tile above level 0 against the roots recomputed from the leaves; the number read."""
    wanted: list[Tile] = []
    level = 1
    while (count := size >> (HEIGHT * level)) > 0:
        wanted += [Tile(level, i, min(WIDTH, count - i * WIDTH)) for i in range((count + WIDTH - 1) // WIDTH)]
        level += 1
    for tile, data in zip(wanted, read(wanted), strict=True):
        hashes = _hash_tile(tile, data)
        expected = full.above.get(tile.level, [])[tile.first_hash() : tile.first_hash() + tile.width]
        for j, (got, want) in enumerate(zip(hashes, expected, strict=True)):
            if got != want:
                raise DoesNotVerify(
                    f"{tile.path}: level {tile.level} hash {tile.first_hash() + j} is not the root of its full "
                    "tile below"
                )
    return len(wanted)
