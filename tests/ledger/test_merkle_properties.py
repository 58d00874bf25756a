"""Properties of the tree: proofs built from stored perfect subtrees verify, match the
reference recursion, and any change to leaf, index, size or proof is caught."""

from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def _all_nodes(leaves: list[bytes]) -> dict[merkle.Node, bytes]:
    nodes: dict[merkle.Node, bytes] = {}
    tree = merkle.CompactRange(on_node=nodes.__setitem__)
    for leaf in leaves:
        tree.push(leaf)
    return nodes


def _ref_path(m: int, d: list[bytes]) -> list[bytes]:
    """RFC 9162 2.1.3.1, written as the RFC writes it."""
    if len(d) == 1:
        return []
    k = merkle.split_point(len(d))
    if m < k:
        return [*_ref_path(m, d[:k]), merkle.root_of_leaf_hashes(d[k:])]
    return [*_ref_path(m - k, d[k:]), merkle.root_of_leaf_hashes(d[:k])]


sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=150, deadline=None)
@given(n=sizes, data=st.data())
def test_inclusion_from_stored_nodes(n: int, data: st.DataObject) -> None:
    leaves = _leaves(n)
    nodes = _all_nodes(leaves)
    root = merkle.root_of_leaf_hashes(leaves)
    assert merkle.range_hash(0, n, nodes) == root
    i = data.draw(st.integers(0, n - 1))
    path = [merkle.range_hash(lo, hi, nodes) for lo, hi in merkle.inclusion_ranges(i, n)]
    assert path == _ref_path(i, leaves)
    merkle.verify_inclusion(leaves[i], i, n, path, root)
    with pytest.raises(merkle.VerificationError):
        merkle.verify_inclusion(hashlib.sha256(leaves[i]).digest(), i, n, path, root)
    if n > 1:
        with pytest.raises(merkle.VerificationError):
            merkle.verify_inclusion(leaves[i], (i + 1) % n, n, path, root)
        with pytest.raises(merkle.VerificationError):
            merkle.verify_inclusion(leaves[i], i, n, path[:-1], root)


@settings(max_examples=150, deadline=None)
@given(n=sizes, data=st.data())
def test_consistency_from_stored_nodes(n: int, data: st.DataObject) -> None:
    leaves = _leaves(n)
    nodes = _all_nodes(leaves)
    m = data.draw(st.integers(0, n))
    proof = [merkle.range_hash(lo, hi, nodes) for lo, hi in merkle.consistency_ranges(m, n)]
    r1, r2 = merkle.root_of_leaf_hashes(leaves[:m]), merkle.root_of_leaf_hashes(leaves)
    merkle.verify_consistency(m, n, proof, r1, r2)
    if 0 < m < n:
        with pytest.raises(merkle.VerificationError):
            merkle.verify_consistency(m, n, proof, r2, r2)
        with pytest.raises(merkle.VerificationError):
            merkle.verify_consistency(m, n, [*proof, r1], r1, r2)
        forged = leaves.copy()
        forged[data.draw(st.integers(0, m - 1))] = merkle.leaf_hash(b"forged")
        with pytest.raises(merkle.VerificationError):
            merkle.verify_consistency(m, n, proof, r1, merkle.root_of_leaf_hashes(forged))


@given(n=st.integers(0, 2000))
def test_frontier_is_a_compact_range(n: int) -> None:
    nodes = merkle.frontier_nodes(n)
    assert sum(1 << level for level, _ in nodes) == n
    assert len(nodes) == bin(n).count("1")


@given(n=st.integers(0, 600))
def test_bottom_up_root_equals_the_recursive_one(n: int) -> None:
    leaves = _leaves(n)
    assert merkle.root_by_levels(leaves) == merkle.root_of_leaf_hashes(leaves)


@settings(max_examples=100, deadline=None)
@given(
    size=st.integers(min_value=0, max_value=200),
    chunk=st.sampled_from([1, 2, 4, 8, 32]),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=6),
)
def test_a_stream_of_leaves_has_the_root_of_the_whole_tree(size: int, chunk: int, cuts: list[int]) -> None:
    """However the leaves arrive (in batches cut anywhere) and whatever the chunk, the
    streamed root is the reference root, and memory holds less than a chunk of leaves."""
    leaves = _leaves(size)
    stream = merkle.LeafStream(chunk)
    bounds = sorted({0, size, *(c for c in cuts if c < size)})
    for lo, hi in itertools.pairwise(bounds):
        stream.extend(leaves[lo:hi])
        assert len(stream._pending) < chunk
    assert stream.size == size
    assert stream.root() == merkle.root_of_leaf_hashes(leaves)


def test_a_chunk_is_a_power_of_two() -> None:
    with pytest.raises(ValueError):
        merkle.LeafStream(12)
