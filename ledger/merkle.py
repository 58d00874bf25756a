"""RFC 9162 Merkle tree hashing, proofs and their verification.

The tree is the one of RFC 9162 section 2.1 (unchanged from RFC 6962): leaves are
``SHA-256(0x00 || data)``, interior nodes ``SHA-256(0x01 || left || right)``, and a tree
of ``n`` leaves splits at the largest power of two smaller than ``n``.

Proofs are described structurally first: as lists of leaf ranges ``(lo, hi)`` whose
subtree hashes make up the proof. Any such range is the union of a few *perfect*
subtrees (aligned, power-of-two sized), so a store that keeps the hash of every
perfect subtree answers any proof with O(log^2 n) lookups, never reading the whole
log. :func:`perfect_nodes` lists them; :func:`range_hash` folds them back.

The verifiers (:func:`verify_inclusion`, :func:`verify_consistency`) follow RFC 9162
sections 2.1.3.2 and 2.1.4.2 and raise :class:`VerificationError` on any mismatch; they
are meant for auditors' own scripts and take and return plain bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

Range = tuple[int, int]
Node = tuple[int, int]
"""A perfect subtree: ``(level, index)`` covers leaves ``[index * 2**level, (index + 1) * 2**level)``."""


class VerificationError(ValueError):
    """A proof, root or leaf does not check out."""


def leaf_hash(data: bytes) -> bytes:
    """The hash of a leaf holding ``data``."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node over two child hashes."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


_NODE_HASHER = hashlib.sha256(NODE_PREFIX)


def parents(nodes: Sequence[bytes]) -> list[bytes]:
    """The hashes of the interior nodes over each pair of neighbours in ``nodes`` (an odd last
    one is left out): a hasher that has taken the prefix already, copied for each pair, which
    is faster than joining the three parts first."""
    made = []
    for left, right in zip(nodes[0::2], nodes[1::2], strict=False):
        hasher = _NODE_HASHER.copy()
        hasher.update(left)
        hasher.update(right)
        made.append(hasher.digest())
    return made


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    if n < 2:
        raise ValueError("a tree of fewer than two leaves does not split")
    return 1 << ((n - 1).bit_length() - 1)


def root_of_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """The root over leaf hashes held in memory (reference implementation, RFC 9162 2.1.1)."""
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = split_point(len(hashes))
    return node_hash(root_of_leaf_hashes(hashes[:k]), root_of_leaf_hashes(hashes[k:]))


def root_by_levels(leaves: Sequence[bytes]) -> bytes:
    """The same root, computed bottom-up: pair neighbours, carry an odd last node up unchanged.

    Equal to the recursive definition (an RFC 9162 tree is left-balanced), and much faster
    for large trees held in memory, since each level is one pass of :func:`parents`.
    """
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        paired = parents(level)
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


# Structure of proofs ------------------------------------------------------------------


def inclusion_ranges(index: int, tree_size: int) -> list[Range]:
    """Leaf ranges whose hashes form the audit path of leaf ``index`` (RFC 9162 2.1.3.1)."""
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf {index} is not in a tree of size {tree_size}")
    path: list[Range] = []
    lo, hi = 0, tree_size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo = lo + k
    path.reverse()
    return path


def consistency_ranges(first: int, second: int) -> list[Range]:
    """Leaf ranges whose hashes form the consistency proof from ``first`` to ``second``
    leaves (RFC 9162 2.1.4.1)."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    if first in (0, second):
        return []
    proof: list[Range] = []
    lo, hi, m, complete = 0, second, first, True
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:
            proof.append((lo + k, hi))
            hi = lo + k
        else:
            proof.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        proof.append((lo, hi))
    proof.reverse()
    return proof


def perfect_nodes(lo: int, hi: int) -> list[Node]:
    """The perfect subtrees that make up ``[lo, hi)``, left to right.

    Valid for the ranges that occur in RFC 9162 trees, whose start is aligned to the
    largest power of two not exceeding their size.
    """
    nodes: list[Node] = []
    while lo < hi:
        size = hi - lo
        level = size.bit_length() - 1
        if lo % (1 << level):
            raise ValueError(f"range [{lo}, {hi}) is not a subtree of an RFC 9162 tree")
        nodes.append((level, lo >> level))
        lo += 1 << level
    return nodes


def fold(parts: Sequence[bytes]) -> bytes:
    """The hash over consecutive perfect subtrees, largest first (a compact range)."""
    if not parts:
        return EMPTY_ROOT
    acc = parts[-1]
    for left in reversed(parts[:-1]):
        acc = node_hash(left, acc)
    return acc


def range_hash(lo: int, hi: int, nodes: Mapping[Node, bytes]) -> bytes:
    """The subtree hash of ``[lo, hi)`` from the hashes of its perfect subtrees."""
    return fold([nodes[n] for n in perfect_nodes(lo, hi)])


def nodes_needed(ranges: Iterable[Range]) -> set[Node]:
    """Every perfect subtree a list of ranges needs, for one batched lookup."""
    return {n for lo, hi in ranges for n in perfect_nodes(lo, hi)}


def frontier_nodes(tree_size: int) -> list[Node]:
    """The perfect subtrees that make up a tree of ``tree_size`` leaves, largest first:
    all an appender needs to know to extend the tree and compute its root."""
    return perfect_nodes(0, tree_size)


# Verification --------------------------------------------------------------------------


def _check_hash(name: str, value: bytes) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise VerificationError(f"{name} is not a {HASH_SIZE}-byte hash")


def _check_proof(proof: Sequence[bytes] | None) -> list[bytes]:
    items = list(proof or [])
    for i, p in enumerate(items):
        _check_hash(f"proof[{i}]", p)
    return items


def root_from_inclusion_proof(leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes] | None) -> bytes:
    """The root implied by an audit path (RFC 9162 2.1.3.2), or VerificationError."""
    _check_hash("leaf hash", leaf)
    items = _check_proof(proof)
    if index < 0 or tree_size < 0:
        raise VerificationError("negative index or tree size")
    if index >= tree_size:
        raise VerificationError(f"index {index} is beyond a tree of size {tree_size}")
    fn, sn, r = index, tree_size - 1, bytes(leaf)
    for p in items:
        if sn == 0:
            raise VerificationError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise VerificationError("the proof is shorter than the tree is deep")
    return r


def verify_inclusion(leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes] | None, root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size`` with ``root``.

    Raises :class:`VerificationError` on any mismatch; returns ``None`` when it holds.
    """
    _check_hash("root", root)
    if root_from_inclusion_proof(leaf_hash, index, tree_size, proof) != root:
        raise VerificationError("the audit path does not lead to the root")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes] | None, root1: bytes, root2: bytes) -> None:
    """Check that the tree of ``size1`` leaves with ``root1`` is a prefix of the tree of
    ``size2`` leaves with ``root2`` (RFC 9162 2.1.4.2).

    Raises :class:`VerificationError` on any mismatch; returns ``None`` when it holds.
    """
    _check_hash("root1", root1)
    _check_hash("root2", root2)
    items = _check_proof(proof)
    if size1 < 0 or size2 < 0:
        raise VerificationError("negative tree size")
    if size2 < size1:
        raise VerificationError(f"size {size2} is smaller than size {size1}")
    if size1 == size2:
        if items:
            raise VerificationError("equal sizes need an empty proof")
        if root1 != root2:
            raise VerificationError("equal sizes with different roots")
        return
    if size1 == 0:
        if items:
            raise VerificationError("a proof from the empty tree must be empty")
        return
    if not items:
        raise VerificationError("the proof is empty")
    if size1 & (size1 - 1) == 0:
        items = [bytes(root1), *items]
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = items[0]
    for c in items[1:]:
        if sn == 0:
            raise VerificationError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise VerificationError("the proof is shorter than the tree is deep")
    if fr != root1:
        raise VerificationError("the proof does not lead to the first root")
    if sr != root2:
        raise VerificationError("the proof does not lead to the second root")


class CompactRange:
    """A streaming tree builder: push leaf hashes in order, read the root at any size.

    Holds one hash per set bit of the size, so verifying a log of any length needs
    O(log n) memory. ``on_node`` (optional) sees every perfect subtree as it completes.
    """

    def __init__(self, on_node: Callable[[Node, bytes], None] | None = None) -> None:
        self.size = 0
        self._stack: list[bytes] = []
        self._on_node = on_node

    def push(self, leaf: bytes) -> None:
        index, level, h = self.size, 0, leaf
        if self._on_node:
            self._on_node((0, index), h)
        while index & 1:
            h = node_hash(self._stack.pop(), h)
            index, level = index >> 1, level + 1
            if self._on_node:
                self._on_node((level, index), h)
        self._stack.append(h)
        self.size += 1

    def root(self) -> bytes:
        return fold(self._stack)

    def frontier(self) -> list[bytes]:
        """The hashes of the perfect subtrees making up the tree so far, largest first."""
        return list(self._stack)


class LeafStream:
    """The root over leaf hashes pushed in order, in O(log n) memory, as fast as
    :func:`root_by_levels`: leaves are gathered ``chunk`` at a time (a power of two), each
    full chunk is one perfect subtree hashed level by level and pushed onto a
    :class:`CompactRange` of chunks; the last, partial chunk is folded in at the end."""

    def __init__(self, chunk: int = 1 << 14) -> None:
        if chunk < 1 or chunk & (chunk - 1):
            raise ValueError("a chunk is a power of two leaves")
        self.chunk = chunk
        self._chunks = CompactRange()
        self._pending: list[bytes] = []

    @property
    def size(self) -> int:
        return self._chunks.size * self.chunk + len(self._pending)

    def extend(self, leaves: Iterable[bytes]) -> None:
        self._pending.extend(leaves)
        while len(self._pending) >= self.chunk:
            self._chunks.push(root_by_levels(self._pending[: self.chunk]))
            del self._pending[: self.chunk]

    def root(self) -> bytes:
        # A tree's root is the fold of its perfect subtrees, largest first; the partial
        # chunk's own root is the fold of the smallest ones.
        tail = [root_by_levels(self._pending)] if self._pending else []
        return fold(self._chunks.frontier() + tail)
