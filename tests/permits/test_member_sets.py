"""Manifest member sets: the bit set gives back exactly the members put in, unions and
positions agree with plain set arithmetic."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop.permits import member_sets

ids = st.sets(st.integers(0, 5_000), max_size=300)


@given(members=ids)
def test_round_trip(members: set[int]) -> None:
    bits = member_sets.encode(members)
    assert member_sets.decode(bits).tolist() == sorted(members)
    assert len(bits) == (max(members) // 8 + 1 if members else 0)


@given(sets=st.lists(ids, max_size=5), probe=st.integers(0, 5_001))
def test_union_and_position(sets: list[set[int]], probe: int) -> None:
    everyone = sorted(set().union(*sets))
    encoded = [member_sets.encode(s) for s in sets]
    assert member_sets.union(encoded).tolist() == everyone
    assert member_sets.size(member_sets.merged(encoded)) == len(everyone)
    expected = everyone.index(probe) if probe in everyone else None
    assert member_sets.position(encoded, probe) == expected


def test_the_layout_is_fixed() -> None:
    """Member m is bit m, most significant bit first: stored sets must read the same forever."""
    assert member_sets.encode([0, 9, 15]) == bytes([0b1000_0000, 0b0100_0001])


def test_negative_ids_are_refused() -> None:
    with pytest.raises(ValueError):
        member_sets.encode([-1, 3])


@settings(deadline=None)
@given(batches=st.lists(st.lists(st.integers(0, 5_000), max_size=60, unique=True), max_size=6))
def test_a_set_built_batch_by_batch_is_the_set_of_all(batches: list[list[int]]) -> None:
    """Batches in any order, of any sizes, give the very bytes ``encode`` gives for all of them."""
    builder = member_sets.Builder()
    for batch in batches:
        builder.add(np.array(batch, dtype=np.int64))
    everyone = {m for batch in batches for m in batch}
    assert builder.encode() == member_sets.encode(everyone)
    probes = np.array([-1, 0, 7, 4_999, 5_000, 9_999], dtype=np.int64)
    assert builder.holds(probes).tolist() == [int(p) in everyone for p in probes]
