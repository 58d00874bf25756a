"""Recompute the ledger of record from the database and check it end to end.

Reads every event in sequence order, rebuilds its canonical bytes and leaf hash, and
checks: the sequence is dense from 1; each event's stored leaf hash equals the
recomputed one (so an altered row is named by its sequence number); every stored subtree
hash equals the one rebuilt from the leaves; every signed tree head has the rebuilt root
at its size and a valid Ed25519 signature by a trusted key. Then the books: every posting
belongs to an entry and names an account, every entry balances, and every entry is backed
by its ``money.entry`` event.

Rows are streamed through the database driver's own cursor (server-side on PostgreSQL),
and each level of the tree is hashed once. Memory is one hash per event.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection

from ledger import merkle
from ledger.events import TIME, TOKEN, event_bytes
from ledger.models import STORED_FROM_LEVEL
from ledger.signing import SignedTreeHead, verify_head

BATCH = 20_000
_WELL_FORMED = re.compile(rf"{TIME.pattern}\x1f{TOKEN.pattern}\x1f{TOKEN.pattern}\x1f{TOKEN.pattern}")


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


def _batches(conn: Connection, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    """Rows in batches straight from the driver: no per-row ORM or Core processing."""
    raw: Any = conn.connection.driver_connection
    cursor = raw.cursor(name="ledger_verify") if conn.dialect.name == "postgresql" else raw.cursor()
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(BATCH):
            yield batch
    finally:
        cursor.close()


def _heads(conn: Connection) -> list[SignedTreeHead]:
    sql = "SELECT tree_size, root_hash, signed_at, key_id, signature FROM ledger_tree_head ORDER BY tree_size"
    return [
        SignedTreeHead(size, bytes(root), at, kid, bytes(sig))
        for batch in _batches(conn, sql)
        for size, root, at, kid, sig in batch
    ]


def verify(
    conn: Connection,
    trusted_keys: Mapping[str, Ed25519PublicKey],
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Check the whole log; ``trusted_keys`` maps key ids to the keys heads may be signed with."""
    report = Report()
    leaves, altered = _leaves(conn, report, progress)
    heads = _heads(conn)
    report.heads = len(heads)
    sizes = [h.tree_size for h in heads if h.tree_size <= len(leaves)]
    wanted = merkle.nodes_needed((0, size) for size in [*sizes, len(leaves)])
    if altered:
        # The stored subtrees were built from the stored leaf hashes: check them against
        # those, so one altered event is reported once; the heads see the real content.
        recorded = leaves.copy()
        for index, stored in altered.items():
            recorded[index] = stored
        _check_levels(conn, recorded, set(), report)
        found = _check_levels(conn, leaves, wanted, None)
    else:
        found = _check_levels(conn, leaves, wanted, report)
    report.root_hash = merkle.range_hash(0, len(leaves), found) if leaves else merkle.EMPTY_ROOT
    for head in heads:
        if head.tree_size > len(leaves):
            report.fail(f"signed tree head of size {head.tree_size} is beyond the log of {len(leaves)} events")
            continue
        _check_head(report, head, merkle.range_hash(0, head.tree_size, found), trusted_keys)
    _check_books(conn, report)
    return report


BOOKS_CHECKS = (
    (
        "SELECT DISTINCT p.entry_id FROM money_posting p LEFT JOIN money_entry e ON e.id = p.entry_id "
        "WHERE e.id IS NULL",
        "postings without their entry",
    ),
    (
        "SELECT DISTINCT p.account FROM money_posting p LEFT JOIN money_account a ON a.code = p.account "
        "WHERE a.code IS NULL",
        "postings on accounts that do not exist",
    ),
    (
        "SELECT entry_id FROM money_posting GROUP BY entry_id HAVING sum(amount_cents) <> 0",
        "entries whose postings do not sum to zero",
    ),
    (
        "SELECT m.id FROM money_entry m LEFT JOIN ledger_event e ON e.seq = m.ledger_seq "
        "WHERE e.seq IS NULL OR e.type <> 'money.entry' OR e.subject <> 'entry:' || m.id",
        "entries without their money.entry event",
    ),
)


def _check_books(conn: Connection, report: Report) -> None:
    for sql, what in BOOKS_CHECKS:
        bad = [str(row[0]) for batch in _batches(conn, sql) for row in batch]
        if bad:
            report.fail(f"books: {len(bad)} {what}: {', '.join(sorted(bad)[:5])}")


def _leaves(
    conn: Connection, report: Report, progress: Callable[[int], None] | None
) -> tuple[list[bytes], dict[int, bytes]]:
    """Every event's recomputed leaf hash, checking order and shape; and the stored leaf
    hashes that differ from the recomputed ones, by leaf index."""
    sha256 = hashlib.sha256
    leaves: list[bytes] = []
    altered: dict[int, bytes] = {}
    expected = 1
    sql = "SELECT seq, recorded_at, type, actor, subject, payload, leaf_hash FROM ledger_event ORDER BY seq"
    for batch in _batches(conn, sql):
        for seq, time, typ, actor, subject, payload, stored in batch:
            if seq != expected:
                report.fail(f"sequence gap: expected event {expected}, found {seq}", expected)
                return leaves, altered
            if not _WELL_FORMED.fullmatch(f"{time}\x1f{typ}\x1f{actor}\x1f{subject}"):
                report.fail(f"event {seq} has a malformed time, type, actor or subject", seq)
            leaf = sha256(b"\x00" + event_bytes(seq, time, typ, actor, subject, payload)).digest()
            if leaf != stored:
                report.fail(f"event {seq} does not match its recorded leaf hash", seq)
                altered[seq - 1] = bytes(stored)
            leaves.append(leaf)
            expected += 1
        if progress:
            progress(len(batch))
    report.events = len(leaves)
    return leaves, altered


def _check_levels(
    conn: Connection, leaves: list[bytes], wanted: set[merkle.Node], report: Report | None
) -> dict[merkle.Node, bytes]:
    """Rebuild the tree level by level, keep the nodes the heads need, and (given a report)
    compare the stored subtrees."""
    sha256 = hashlib.sha256
    found: dict[merkle.Node, bytes] = {}
    level, current = 0, leaves
    while current:
        for node in [n for n in wanted if n[0] == level]:
            found[node] = current[node[1]]
        if report is not None and level >= STORED_FROM_LEVEL:
            sql = f"SELECT hash FROM ledger_node WHERE level = {level} ORDER BY idx"  # noqa: S608 (an int)
            stored = [bytes(h) for batch in _batches(conn, sql) for (h,) in batch]
            report.nodes += len(stored)
            if stored != current:
                _report_node_mismatch(report, level, stored, current)
        current = [sha256(b"\x01" + a + b).digest() for a, b in zip(current[0::2], current[1::2], strict=False)]
        level += 1
    return found


def _report_node_mismatch(report: Report, level: int, stored: list[bytes], computed: list[bytes]) -> None:
    for idx, (s, c) in enumerate(zip(stored, computed, strict=False)):
        if s != c:
            first, last = (idx << level) + 1, (idx + 1) << level
            report.fail(f"stored subtree over events {first}-{last} does not match them", first)
            return
    report.fail(f"level {level} holds {len(stored)} stored subtrees; the events make {len(computed)}")


def _check_head(report: Report, head: SignedTreeHead, root: bytes, trusted: Mapping[str, Ed25519PublicKey]) -> None:
    key = trusted.get(head.key_id)
    if key is None:
        report.fail(f"tree head of size {head.tree_size} is signed by untrusted key {head.key_id}")
    elif not verify_head(head, key):
        report.fail(f"tree head of size {head.tree_size} has an invalid signature")
    if head.root_hash != root:
        report.fail(f"events up to {head.tree_size} do not match the signed tree head of that size", head.tree_size)
