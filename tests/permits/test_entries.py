"""A manifest's entries sorted by pseudonym through a temporary file, and its pseudonyms
computed from the key's pads: both give exactly what the plain definitions give."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop.permits import entries
from coop.permits.manifests import pseudonym, pseudonymiser
from ledger import merkle


@settings(deadline=None)
@given(key=st.binary(min_size=1, max_size=100), permit=st.integers(1, 10**6), members=st.lists(st.integers(0, 10**9)))
def test_the_fast_pseudonyms_are_the_hmacs(key: bytes, permit: int, members: list[int]) -> None:
    of = pseudonymiser(key, permit)
    assert [of(m) for m in members] == [pseudonym(key, permit, m) for m in members]


@settings(max_examples=40, deadline=None)
@given(
    members=st.lists(st.integers(1, 10**6), max_size=1_000, unique=True),
    cuts=st.lists(st.integers(0, 1_000), max_size=4),
    read=st.sampled_from([1, 3, 64, 1 << 16]),
)
def test_entries_come_back_sorted_by_pseudonym_with_their_members(
    members: list[int], cuts: list[int], read: int
) -> None:
    """Members (distinct, as a manifest's are) added in batches cut anywhere, read back in
    chunks of any size."""
    bounds = sorted({0, len(members), *(c for c in cuts if c < len(members))})
    batches = [members[lo:hi] for lo, hi in itertools.pairwise(bounds)]
    of = pseudonymiser(b"key", 7)
    added: dict[bytes, int] = {}
    entries.READ, saved = read, entries.READ
    try:
        with entries.SortedEntries() as sorted_entries:
            for batch in batches:
                ids = np.array(batch, dtype=np.int64)
                sorted_entries.add(b"".join(of(m) for m in batch), ids)
                added.update((of(m), m) for m in batch)
            sorted_entries.sort()
            back = [
                (p, int(m))
                for chunk in sorted_entries
                for p, m in zip(entries.pseudonyms_of(chunk), chunk["member"].tolist(), strict=True)
            ]
    finally:
        entries.READ = saved
    assert back == sorted(added.items())
    assert sorted_entries.size == len(added)


def test_each_batch_is_handed_on_after_it_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """The manifest hashes each batch once it has gone to the database: every batch, in the
    order written, and only after it was taken."""
    taken: list[list[int]] = []
    seen: list[list[int]] = []
    with entries.SortedEntries() as sorted_entries:
        for lo in range(1, 40, 7):
            ids = np.arange(lo, lo + 7, dtype=np.int64)
            sorted_entries.add(b"".join(pseudonymiser(b"key", 7)(int(m)) for m in ids), ids)
        sorted_entries.sort()
        monkeypatch.setattr(entries, "READ", 4)
        batches = entries._handed_on(sorted_entries, lambda b: seen.append(b["member"].tolist()))
        for batch in batches:
            assert len(seen) == len(taken)  # not hashed before it was taken
            taken.append(batch["member"].tolist())
    assert seen == taken and sum(map(len, taken)) == 42


@settings(max_examples=60, deadline=None)
@given(pseudonyms=st.lists(st.binary(min_size=32, max_size=32) | st.just(bytes(32)), max_size=50))
def test_the_leaf_hashes_are_the_rfc_9162_ones(pseudonyms: list[bytes]) -> None:
    """Laid out by numpy, even pseudonyms ending in zero bytes keep all 32 of them."""
    batch = np.empty(len(pseudonyms), dtype=entries.ENTRY)
    batch["pseudonym"] = np.frombuffer(b"".join(pseudonyms), dtype="V32")
    batch["member"] = 1
    assert entries.leaf_hashes(batch) == [merkle.leaf_hash(p) for p in pseudonyms]
