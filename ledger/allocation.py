"""Splitting an amount of cents exactly: the largest remainder method (Hamilton).

Each part first gets ``floor(total * weight / sum(weights))``; the cents left over go, one
each, to the parts with the largest remainders. Everything is integer arithmetic, so the
parts always add up to the total, and every part is within one cent of its exact share
(the quota rule).

Ties between equal remainders are broken by a ranking that is deterministic but changes
with ``seed`` (for a yearly distribution: the period), so that the same keys are not
favoured every year: keys are ranked by ``SHA-256(seed || 0x00 || key)``. The result does
not depend on the order in which the parts are given.

An equal split over ``n`` parts in a fixed order (members in a permit, by member id) is
the same method with every remainder tied, and has a closed form that needs no ranking of a
million keys: :func:`equal_split`. Every part gets ``total // n``; the ``total % n`` cents
left over go one each to the parts at positions ``start, start + 1, ...`` (wrapping round),
where ``start = SHA-256(seed) mod n``. The seed changes every year, so the window of parts
that gets the extra cent moves with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def tie_rank(seed: str, key: object) -> bytes:
    return hashlib.sha256(f"{seed}\x00{key}".encode()).digest()


def largest_remainder(total: int, weights: Mapping[K, int], seed: str) -> dict[K, int]:
    """Split ``total`` cents over ``weights`` (non-negative integers, not all zero)."""
    if type(total) is not int or total < 0:
        raise ValueError("the total is a non-negative whole number of cents")
    if any(type(w) is not int or w < 0 for w in weights.values()):
        raise ValueError("weights are non-negative whole numbers")
    denominator = sum(weights.values())
    if denominator == 0:
        raise ValueError("at least one weight must be positive")
    shares: dict[K, int] = {}
    remainders: list[tuple[int, bytes, K]] = []
    for key, weight in weights.items():
        quotient, remainder = divmod(total * weight, denominator)
        shares[key] = quotient
        remainders.append((remainder, tie_rank(seed, key), key))
    left = total - sum(shares.values())
    remainders.sort(key=lambda r: (-r[0], r[1]))
    for _, _, key in remainders[:left]:
        shares[key] += 1
    return shares


@dataclass(frozen=True, slots=True)
class EqualSplit:
    """``total`` cents over ``parts`` equal parts: each gets ``base``; the ``extra`` parts at
    positions ``start, start + 1, ...`` (mod ``parts``) get one cent more."""

    total: int
    parts: int
    base: int
    extra: int
    start: int

    def share(self, position: int) -> int:
        if not 0 <= position < self.parts:
            raise ValueError(f"position {position} is not one of {self.parts} parts")
        return self.base + (1 if (position - self.start) % self.parts < self.extra else 0)


def equal_split(total: int, parts: int, seed: str) -> EqualSplit:
    """Split ``total`` cents equally over ``parts`` parts (see the module's description)."""
    if type(total) is not int or total < 0:
        raise ValueError("the total is a non-negative whole number of cents")
    if type(parts) is not int or parts < 1:
        raise ValueError("there is at least one part")
    base, extra = divmod(total, parts)
    start = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") % parts
    return EqualSplit(total, parts, base, extra, start)
