"""The tree over the log, rebuilt a batch of leaves at a time while the log streams by, and
its stored subtrees compared along the way.

:class:`Rebuilt` hashes each level of a batch in one pass (:func:`ledger.merkle.parents`) and carries a
level's odd last node on to the next batch, so it holds one hash per level besides the
batch: a log of any length is checked in the memory of a batch. It keeps the perfect
subtrees asked for (those the signed heads and checkpoints need) and the frontier, from
which the root of the whole log is folded.

:class:`StoredSubtrees` compares every perfect subtree of the stored levels with
``ledger_node`` as it completes. Each level's stored subtrees are read in the order the
rebuilt ones complete, a batch's worth at a time, by the same thread that reads the log.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ledger import merkle
from ledger.models import STORED_FROM_LEVEL

OnLevel = Callable[[int, int, list[bytes]], None]
"""Sees the perfect subtrees of one level that a batch completed: ``(level, first index, hashes)``."""

NODES_SQL = "SELECT level, idx, hash FROM ledger_node WHERE level = {level} ORDER BY idx"
"""The stored subtrees of a level, in the order they complete."""


class Rebuilt:
    """The tree over the leaves pushed so far, without the leaves."""

    def __init__(self, wanted: Iterable[merkle.Node] = (), on_level: OnLevel | None = None) -> None:
        self.size = 0
        self.found: dict[merkle.Node, bytes] = {}
        """The wanted perfect subtrees made so far, and the frontier after :meth:`close`."""
        self.on_level = on_level
        self._carry: list[bytes | None] = []
        self._wanted: dict[int, list[int]] = {}
        for level, idx in sorted(set(wanted)):
            self._wanted.setdefault(level, []).append(idx)

    def push(self, leaves: list[bytes]) -> None:
        """The next leaves, in order."""
        carry = self._carry
        nodes, start, level = leaves, self.size, 0
        self.size += len(leaves)
        while nodes:
            self._completed(level, start, nodes)
            if level == len(carry):
                carry.append(None)
            left = carry[level]
            if left is not None:  # the left neighbour of this batch's first node, made by an earlier batch
                nodes, start = [left, *nodes], start - 1
            carry[level] = nodes[-1] if len(nodes) % 2 else None
            nodes = merkle.parents(nodes)
            start, level = start // 2, level + 1

    def _completed(self, level: int, start: int, nodes: list[bytes]) -> None:
        wanted = self._wanted.get(level)
        if wanted:
            for idx in wanted[bisect_left(wanted, start) : bisect_left(wanted, start + len(nodes))]:
                self.found[(level, idx)] = nodes[idx - start]
        if self.on_level is not None and level >= STORED_FROM_LEVEL:
            self.on_level(level, start, nodes)

    def fork(self) -> Rebuilt:
        """A copy of the tree so far that goes its own way, taking over ``on_level``."""
        twin = Rebuilt((), self.on_level)
        twin.size, twin._carry, self.on_level = self.size, list(self._carry), None
        return twin

    def close(self) -> bytes:
        """Keep the frontier (the perfect subtrees that make up the whole tree) with the
        wanted subtrees, and return the root."""
        for level, node in enumerate(self._carry):
            if node is not None:
                self.found[(level, (self.size >> level) - 1)] = node
        return merkle.range_hash(0, self.size, self.found) if self.size else merkle.EMPTY_ROOT


Stored = dict[merkle.Node, bytes]


def stored_until(read: Callable[[int], Iterator[list[tuple[Any, ...]]]]) -> Callable[[int], Stored]:
    """The stored subtrees that end at or before a leaf count, each asked once, with counts
    that only grow; ``read(level)`` streams a level's stored subtrees by index (the order of
    the table's key: no sort), opened once the log is long enough to make one."""
    levels: list[tuple[Iterator[list[tuple[Any, ...]]], list[tuple[Any, ...]]]] = []

    def until(size: int) -> Stored:
        while size >> (STORED_FROM_LEVEL + len(levels)):
            levels.append((read(STORED_FROM_LEVEL + len(levels)), []))
        taken: Stored = {}
        for at, (batches, ahead) in enumerate(levels, STORED_FROM_LEVEL):
            made = size >> at  # the level's subtrees below this index are complete
            while True:
                if not ahead:
                    ahead.extend(next(batches, []))
                    if not ahead:
                        break
                done = bisect_left(ahead, made, key=_index)
                taken.update(((level, idx), bytes(digest)) for level, idx, digest in ahead[:done])
                if done < len(ahead):
                    del ahead[:done]
                    break
                ahead.clear()
        return taken

    return until


def _index(row: tuple[Any, ...]) -> int:
    return int(row[1])


class StoredSubtrees:
    """The stored subtrees beside the rebuilt ones: the first at each level that differs,
    and how many each side has."""

    def __init__(self) -> None:
        self.stored: Counter[int] = Counter()
        self.made: Counter[int] = Counter()
        self._these: Stored = {}
        self._missing: dict[int, int] = {}
        self._differs: dict[int, int] = {}

    def expect(self, stored: Stored) -> None:
        """The stored subtrees that end within the next batch; those it does not make are extra."""
        for level, _ in self._these:  # left from the previous batch: the events did not make them
            self.stored[level] += 1
        self._these = stored

    def compare(self, level: int, start: int, nodes: list[bytes]) -> None:
        """An :data:`OnLevel` for the tree that the stored subtrees were built from."""
        self.made[level] += len(nodes)
        these = self._these
        for idx, node in enumerate(nodes, start):
            kept = these.pop((level, idx), None)
            if kept is None:
                self._missing.setdefault(level, idx)
                continue
            self.stored[level] += 1
            if kept != node and level not in self._differs:
                self._differs[level] = idx

    def problems(self, beyond: Counter[int]) -> Iterator[tuple[str, int | None]]:
        """What disagrees, level by level, given the stored subtrees beyond the last batch."""
        self.expect({})
        self.stored.update(beyond)
        for level in sorted(self.stored.keys() | self.made.keys()):
            idx = self._differs.get(level)
            if idx is None and self.stored[level] != self.made[level]:
                yield (
                    f"level {level} holds {self.stored[level]} stored subtrees; the events make {self.made[level]}",
                    None,
                )
                continue
            idx = idx if idx is not None else self._missing.get(level)
            if idx is not None:
                first, last = (idx << level) + 1, (idx + 1) << level
                yield f"stored subtree over events {first}-{last} does not match them", first
