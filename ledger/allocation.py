"""Splitting an amount of cents exactly: the largest remainder method (Hamilton).

Each part first gets ``floor(total * weight / sum(weights))``; the cents left over go, one
each, to the parts with the largest remainders. Everything is integer arithmetic, so the
parts always add up to the total, and every part is within one cent of its exact share
(the quota rule).

Ties between equal remainders are broken by a ranking that is deterministic but changes
with ``seed`` (for a yearly distribution: the period), so that the same keys are not
favoured every year: keys are ranked by ``SHA-256(seed || 0x00 || key)``. The result does
not depend on the order in which the parts are given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Mapping
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
