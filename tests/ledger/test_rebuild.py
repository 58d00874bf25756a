"""The tree rebuilt a batch at a time is the tree: the same root, the same perfect subtrees,
however the leaves are cut into batches; and the stored subtrees are compared one by one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.models import STORED_FROM_LEVEL
from ledger.rebuild import Rebuilt, StoredSubtrees, stored_until


def _leaves(n: int, salt: int = 0) -> list[bytes]:
    return [merkle.leaf_hash((i + salt).to_bytes(4, "big")) for i in range(n)]


def _all_nodes(leaves: list[bytes]) -> dict[merkle.Node, bytes]:
    nodes: dict[merkle.Node, bytes] = {}
    tree = merkle.CompactRange(on_node=nodes.__setitem__)
    for leaf in leaves:
        tree.push(leaf)
    return nodes


def _cut(leaves: list[bytes], cuts: list[int]) -> list[list[bytes]]:
    bounds = [0, *sorted({c % (len(leaves) + 1) for c in cuts}), len(leaves)]
    return [leaves[a:b] for a, b in pairwise(bounds)]


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 300), cuts=st.lists(st.integers(0, 300), max_size=12), data=st.data())
def test_any_cut_into_batches_makes_the_same_tree(n: int, cuts: list[int], data: st.DataObject) -> None:
    leaves = _leaves(n)
    sizes = data.draw(st.lists(st.integers(1, 320), max_size=5))
    wanted = merkle.nodes_needed((0, size) for size in sizes)
    seen: dict[merkle.Node, bytes] = {}

    def on_level(level: int, start: int, nodes: list[bytes]) -> None:
        for idx, node in enumerate(nodes, start):
            assert (level, idx) not in seen  # each subtree once, as it completes
            seen[(level, idx)] = node

    tree = Rebuilt(wanted, on_level)
    for batch in _cut(leaves, cuts):
        tree.push(batch)
    assert tree.size == n
    assert tree.close() == merkle.root_of_leaf_hashes(leaves)
    every = _all_nodes(leaves)
    assert seen == {node: h for node, h in every.items() if node[0] >= STORED_FROM_LEVEL}
    assert {node: h for node, h in tree.found.items() if node in wanted} == {n: every[n] for n in wanted if n in every}
    for size in sizes:
        if size <= n:
            assert merkle.range_hash(0, size, tree.found) == merkle.root_of_leaf_hashes(leaves[:size])


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 200), at=st.integers(0, 200), cuts=st.lists(st.integers(0, 200), max_size=6))
def test_a_fork_goes_on_as_a_tree_of_its_own(n: int, at: int, cuts: list[int]) -> None:
    """The twin of the tree so far, fed other leaves, is the tree of those; it takes the
    comparison of the stored subtrees with it."""
    at = at % (n + 1)
    leaves, others = _leaves(n), _leaves(n, salt=1000)
    compared: list[merkle.Node] = []
    tree = Rebuilt(
        (), lambda level, start, nodes: compared.extend((level, i) for i in range(start, start + len(nodes)))
    )
    tree.push(leaves[:at])
    twin = tree.fork()
    for batch in _cut(leaves[at:], cuts):
        tree.push(batch)
    twin.push(others[at:])
    forked = leaves[:at] + others[at:]
    assert tree.close() == merkle.root_of_leaf_hashes(leaves)
    assert twin.close() == merkle.root_of_leaf_hashes(forked)
    assert sorted(compared) == sorted(node for node in _all_nodes(forked) if node[0] >= STORED_FROM_LEVEL)


def _compare(leaves: list[bytes], stored: dict[merkle.Node, bytes], batch: int) -> list[tuple[str, int | None]]:
    """As verification does: the stored subtrees read in the order they complete, beside the batches."""

    def read(level: int) -> Iterator[list[tuple[int, int, bytes]]]:  # in batches of 3
        rows = sorted((lv, idx, h) for (lv, idx), h in stored.items() if lv == level)
        return iter([rows[i : i + 3] for i in range(0, len(rows), 3)])

    until = stored_until(read)
    subtrees = StoredSubtrees()
    tree = Rebuilt((), subtrees.compare)
    for i in range(0, len(leaves), batch):
        subtrees.expect(until(min(i + batch, len(leaves))))
        tree.push(leaves[i : i + batch])
    beyond = Counter(level for (level, idx) in stored if (idx + 1) << level > len(leaves))
    return list(subtrees.problems(beyond))


def test_stored_subtrees_that_match_agree_in_any_batches() -> None:
    leaves = _leaves(100)
    stored = {node: h for node, h in _all_nodes(leaves).items() if node[0] >= STORED_FROM_LEVEL}
    for batch in (1, 7, 16, 33, 100):
        assert _compare(leaves, stored, batch) == []


def test_each_level_names_its_first_altered_missing_or_extra_subtree() -> None:
    leaves = _leaves(100)  # level 4: 6 subtrees, level 5: 3, level 6: 1
    stored = {node: h for node, h in _all_nodes(leaves).items() if node[0] >= STORED_FROM_LEVEL}
    altered = {**stored, (4, 2): leaves[0], (4, 4): leaves[1]}
    assert _compare(leaves, altered, 7) == [("stored subtree over events 33-48 does not match them", 33)]
    missing = {node: h for node, h in stored.items() if node != (5, 1)}
    assert _compare(leaves, missing, 7) == [("level 5 holds 2 stored subtrees; the events make 3", None)]
    extra = {**stored, (4, 6): leaves[2], (7, 0): leaves[3]}
    assert _compare(leaves, extra, 7) == [
        ("level 4 holds 7 stored subtrees; the events make 6", None),
        ("level 7 holds 1 stored subtrees; the events make 0", None),
    ]
    moved = {**missing, (5, 5): leaves[4]}  # as many as the events make, one in the wrong place
    assert _compare(leaves, moved, 7) == [("stored subtree over events 33-64 does not match them", 33)]
