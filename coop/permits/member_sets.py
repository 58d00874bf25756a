"""A manifest's members as a bit set, stored beside its pseudonymised entries.

Bit ``m`` stands for member ``m``: byte ``m // 8``, most significant bit first (numpy's
``packbits`` order). Member ids are dense, so a million members take 125 kB per manifest,
and a distribution reads 200 manifests in a blink where it would otherwise read a hundred
million entry rows. The set is written in the same transaction as the entries and never
changes.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

Ids = npt.NDArray[np.int64]


def encode(members: Iterable[int]) -> bytes:
    builder = Builder()
    builder.add(np.fromiter(members, dtype=np.int64))
    return builder.encode()


class Builder:
    """A member set filled batch by batch, in any order: one byte per member id up to the
    highest (18 MB for 18 million members) however many batches come, never a list of ids."""

    def __init__(self) -> None:
        self._mask = np.zeros(0, dtype=bool)
        self._top = -1  # the highest id added

    def add(self, ids: Ids) -> None:
        if ids.size == 0:
            return
        if ids.min() < 0:
            raise ValueError("member ids are positive")
        top = int(ids.max())
        if top >= self._mask.size:
            grown = np.zeros(max(top + 1, 2 * self._mask.size), dtype=bool)
            grown[: self._mask.size] = self._mask
            self._mask = grown
        self._mask[ids] = True
        self._top = max(self._top, top)

    def holds(self, ids: Ids) -> npt.NDArray[np.bool_]:
        """Which of ``ids`` are in the set."""
        inside = (ids >= 0) & (ids < self._mask.size)
        held = np.zeros(ids.size, dtype=bool)
        held[inside] = self._mask[ids[inside]]
        return held

    def encode(self) -> bytes:
        """The set as :func:`encode` gives it (its length set by the highest member)."""
        return np.packbits(self._mask[: self._top + 1]).tobytes()


def decode(bits: bytes) -> Ids:
    """The members in the set, in ascending order."""
    return np.flatnonzero(np.unpackbits(np.frombuffer(bits, dtype=np.uint8)).view(np.bool_)).astype(np.int64)


def union(sets: Iterable[bytes]) -> Ids:
    """The members in any of the sets, in ascending order."""
    return decode(merged(sets))


def merged(sets: Iterable[bytes]) -> bytes:
    """The set of the members in any of the sets, still as bits."""
    merged = np.zeros(0, dtype=np.uint8)
    for bits in sets:
        other = np.frombuffer(bits, dtype=np.uint8)
        if other.size > merged.size:
            merged, other = np.concatenate([merged, np.zeros(other.size - merged.size, np.uint8)]), other
        merged[: other.size] |= other
    return merged.tobytes()


def size(bits: bytes) -> int:
    """How many members the set holds."""
    return int.from_bytes(bits, "big").bit_count()


def rank(bits: bytes, member: int) -> int | None:
    """Where ``member`` stands among the members of the set (0 for the lowest id), or None
    when it is not one of them; counted on the bits, without listing the members."""
    byte, bit = divmod(member, 8)
    if member < 0 or byte >= len(bits) or not bits[byte] & (0x80 >> bit):
        return None
    return size(bits[:byte]) + (bits[byte] >> (8 - bit)).bit_count()


def position(sets: Iterable[bytes], member: int) -> int | None:
    """Where ``member`` stands among the members of the union of ``sets`` (0 for the lowest id),
    or None when it is in none of them."""
    return rank(merged(sets), member)
