"""Recompute the ledger of record from the database and check it end to end.

Reads every event in sequence order, rebuilds each canonical leaf, rebuilds the tree,
and checks: the sequence is dense from 1; every stored perfect-subtree hash equals the
recomputed one; every signed tree head has the recomputed root at its size and a valid
Ed25519 signature by a trusted key. The first problem names the first bad sequence number.
Memory is one hash per leaf for the node check; time is dominated by SHA-256.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVarTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Result, Select, select
from sqlmodel import col

from ledger import merkle
from ledger.events import event_bytes, is_well_formed
from ledger.models import LedgerEvent, LedgerNode, LedgerTreeHead
from ledger.signing import SignedTreeHead, verify_head

BATCH = 20_000
Row = TypeVarTuple("Row")


@dataclass
class Report:
    events: int = 0
    heads: int = 0
    nodes: int = 0
    problems: list[str] = field(default_factory=list)
    first_bad_seq: int | None = None
    root_hash: bytes = merkle.EMPTY_ROOT

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, message: str, seq: int | None = None) -> None:
        self.problems.append(message)
        if seq is not None and (self.first_bad_seq is None or seq < self.first_bad_seq):
            self.first_bad_seq = seq


def _heads(conn: Connection) -> list[SignedTreeHead]:
    rows = conn.execute(
        select(
            col(LedgerTreeHead.tree_size),
            col(LedgerTreeHead.root_hash),
            col(LedgerTreeHead.signed_at),
            col(LedgerTreeHead.key_id),
            col(LedgerTreeHead.signature),
        ).order_by(col(LedgerTreeHead.tree_size))
    )
    return [SignedTreeHead(s, bytes(r), t, k, bytes(sig)) for s, r, t, k, sig in rows]


def _stream(conn: Connection, stmt: Select[*Row]) -> Result[*Row]:
    return conn.execution_options(stream_results=True, yield_per=BATCH).execute(stmt)


def verify(
    conn: Connection,
    trusted_keys: Mapping[str, Ed25519PublicKey],
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Check the whole log; ``trusted_keys`` maps key ids to the keys heads may be signed with."""
    report = Report()
    heads = _heads(conn)
    pending = iter(heads)
    next_head = next(pending, None)
    tree = merkle.CompactRange()
    leaves: list[bytes] = []
    leaf_hash = merkle.leaf_hash

    def check_heads_at(size: int) -> None:
        nonlocal next_head
        while next_head is not None and next_head.tree_size == size:
            _check_head(report, next_head, tree.root(), trusted_keys)
            next_head = next(pending, None)

    check_heads_at(0)
    expected = 1
    stmt = select(
        col(LedgerEvent.seq),
        col(LedgerEvent.recorded_at),
        col(LedgerEvent.type),
        col(LedgerEvent.actor),
        col(LedgerEvent.subject),
        col(LedgerEvent.payload),
    ).order_by(col(LedgerEvent.seq))
    for part in _stream(conn, stmt).partitions():
        for seq, time, typ, actor, subject, payload in part:
            if seq != expected:
                report.fail(f"sequence gap: expected event {expected}, found {seq}", expected)
                return report
            if not is_well_formed(seq, time, typ, actor, subject):
                report.fail(f"event {seq} has a malformed time, type, actor or subject", seq)
            leaf = leaf_hash(event_bytes(seq, time, typ, actor, subject, payload))
            leaves.append(leaf)
            tree.push(leaf)
            expected += 1
            if next_head is not None and next_head.tree_size == seq:
                check_heads_at(seq)
        if progress:
            progress(len(part))
    report.events = expected - 1
    report.root_hash = tree.root()
    if next_head is not None:
        report.fail(
            f"signed tree head of size {next_head.tree_size} is beyond the log of {report.events} events",
            report.events + 1,
        )
    report.heads = len(heads)
    _check_nodes(conn, leaves, report)
    return report


def _check_head(report: Report, head: SignedTreeHead, root: bytes, trusted: Mapping[str, Ed25519PublicKey]) -> None:
    key = trusted.get(head.key_id)
    if key is None:
        report.fail(f"tree head of size {head.tree_size} is signed by untrusted key {head.key_id}")
    elif not verify_head(head, key):
        report.fail(f"tree head of size {head.tree_size} has an invalid signature")
    if head.root_hash != root:
        report.fail(
            f"events up to {head.tree_size} do not match the signed tree head of that size",
            head.tree_size,
        )


def _check_nodes(conn: Connection, leaves: list[bytes], report: Report) -> None:
    """Compare stored subtree hashes level by level with the recomputed ones."""
    level, current = 0, leaves
    while current:
        stmt = (
            select(col(LedgerNode.idx), col(LedgerNode.hash))
            .where(col(LedgerNode.level) == level)
            .order_by(col(LedgerNode.idx))
        )
        count = 0
        for part in _stream(conn, stmt).partitions():
            for idx, stored in part:
                count += 1
                if idx >= len(current):
                    report.fail(f"stored subtree ({level}, {idx}) lies beyond the log")
                    return
                if bytes(stored) != current[idx]:
                    first = (idx << level) + 1
                    if level == 0:
                        report.fail(f"event {first} does not match its stored leaf hash", first)
                    else:
                        last = (idx + 1) << level
                        report.fail(f"stored subtree over events {first}-{last} does not match them", first)
                    return
        report.nodes += count
        if count != len(current):
            report.fail(f"{len(current) - count} stored subtree hashes missing at level {level}")
            return
        current = [merkle.node_hash(current[i], current[i + 1]) for i in range(0, len(current) - 1, 2)]
        level += 1
