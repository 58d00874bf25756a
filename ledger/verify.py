"""Recompute the ledger of record from the database and check it end to end.

Reads every event in sequence order, rebuilds its canonical bytes and leaf hash, and
checks: the sequence is dense from 1; each event's stored leaf hash equals the
recomputed one (so an altered row is named by its sequence number); every stored subtree
hash equals the one rebuilt from the leaves; every signed tree head has the rebuilt root
at its size and a valid Ed25519 signature by a trusted key; so has every checkpoint (a head
an auditor kept), which the log must still extend. Events that no signed head covers may
not be older than a deadline the caller sets. Then the books: every posting belongs to an
entry and names an account, every entry balances, and every entry is backed by its
``money.entry`` event.

The ledger knows nothing of the tables the events made. A caller that does passes
:class:`Consumer` objects: while the events stream by once, each consumer receives, batch
by batch, the events of the types it asked for; afterwards it compares its tables with
them, using the recomputed leaf hashes, and reports what disagrees.

Rows are streamed through the database driver's own cursor (server-side on PostgreSQL),
and each level of the tree is hashed once. Memory is one hash per event.
"""

from __future__ import annotations

import hashlib
import queue
import re
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection

from ledger import merkle
from ledger.events import TIME, TOKEN, leaf_hashes, well_formed
from ledger.models import STORED_FROM_LEVEL
from ledger.notes import Checkpoint
from ledger.signing import SignedTreeHead, verify_head

BATCH = 20_000
_TYPE = itemgetter(2)
_WELL_FORMED = re.compile(rf"{TIME.pattern}\x1f{TOKEN.pattern}\x1f{TOKEN.pattern}\x1f{TOKEN.pattern}")


EventRow = tuple[int, str, str, str, str, str, bytes]
"""An event as streamed: ``(seq, time, type, actor, subject, payload, stored leaf hash)``."""


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A row of a table that the events which made it do not account for."""

    table: str
    row: str
    seq: int | None
    message: str

    def __str__(self) -> str:
        event = f" (event {self.seq})" if self.seq is not None else ""
        return f"{self.table} {self.row}{event}: {self.message}"


@dataclass
class Report:
    events: int = 0
    heads: int = 0
    nodes: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)
    first_bad_seq: int | None = None
    root_hash: bytes = merkle.EMPTY_ROOT

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_disagreement(self) -> Disagreement | None:
        """The disagreement with the earliest event (rows without any event come last)."""
        ranked = sorted(self.disagreements, key=lambda d: (d.seq is None, d.seq or 0))
        return ranked[0] if ranked else None

    def fail(self, message: str, seq: int | None = None) -> None:
        self.problems.append(message)
        if seq is not None and (self.first_bad_seq is None or seq < self.first_bad_seq):
            self.first_bad_seq = seq

    def disagree(self, table: str, row: str, seq: int | None, message: str) -> None:
        found = Disagreement(table, row, seq, message)
        self.disagreements.append(found)
        self.problems.append(str(found))


class Consumer(Protocol):
    """Something that checks tables against the events that made them.

    ``types`` names the event types it reads; ``take`` receives them in sequence order, in
    batches of one type each, as the log streams by (once); ``finish`` then compares its
    tables, given the recomputed leaf hash of every event (leaf index = seq - 1), and
    reports to ``report``.
    """

    @property
    def types(self) -> Collection[str]: ...

    def take(self, events: list[EventRow]) -> None: ...

    def finish(self, conn: Connection, leaves: Sequence[bytes], report: Report) -> None: ...


def stream(conn: Connection, sql: str, name: str = "ledger_verify") -> Iterator[list[tuple[Any, ...]]]:
    """Rows in batches straight from the driver: no per-row ORM or Core processing. On
    PostgreSQL a server-side cursor called ``name`` (unique among those open at once), in the
    binary protocol (hashes arrive as bytes, not as hex to decode)."""
    raw: Any = conn.connection.driver_connection
    cursor = raw.cursor(name=name, binary=True) if conn.dialect.name == "postgresql" else raw.cursor()
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(BATCH):
            yield batch
    finally:
        cursor.close()


def stream_ahead(conn: Connection, sql: str, name: str = "ledger_verify") -> Iterator[list[tuple[Any, ...]]]:
    """:func:`stream`, with the next batches fetched by a thread of their own while the
    caller works on this one: the database produces rows (PostgreSQL in its server process,
    SQLite with the interpreter's lock released) while the caller hashes. Nothing else may
    use ``conn`` until the iteration ends."""
    batches: queue.Queue[list[tuple[Any, ...]] | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def fetch() -> None:
        try:
            for batch in stream(conn, sql, name):
                while not stop.is_set():
                    try:
                        batches.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            batches.put(None)
        except BaseException as exc:  # handed to the caller, who raises it
            batches.put(exc)

    fetcher = threading.Thread(target=fetch, name=f"{name}-fetch", daemon=True)
    fetcher.start()
    try:
        while (item := batches.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        fetcher.join()


def one(conn: Connection, sql: str) -> tuple[Any, ...] | None:
    """The first row of a query without parameters, straight from the driver."""
    raw: Any = conn.connection.driver_connection
    cursor = raw.cursor()
    try:
        cursor.execute(sql)
        row: tuple[Any, ...] | None = cursor.fetchone()
        return row
    finally:
        cursor.close()


def _heads(conn: Connection) -> list[SignedTreeHead]:
    sql = "SELECT tree_size, root_hash, signed_at, key_id, signature FROM ledger_tree_head ORDER BY tree_size"
    return [
        SignedTreeHead(size, bytes(root), at, kid, bytes(sig))
        for batch in stream(conn, sql)
        for size, root, at, kid, sig in batch
    ]


def verify(
    conn: Connection,
    trusted_keys: Mapping[str, Ed25519PublicKey],
    progress: Callable[[int], None] | None = None,
    consumers: Sequence[Consumer] = (),
    checkpoints: Sequence[SignedTreeHead | Checkpoint] = (),
    unsigned_deadline: datetime | None = None,
) -> Report:
    """Check the whole log; ``trusted_keys`` maps key ids to the keys heads may be signed with.

    ``consumers`` check the tables the events made (see :class:`Consumer`); ``checkpoints``
    are heads kept outside the database, which the log must still extend; events that no
    signed head covers must be recorded after ``unsigned_deadline`` (when given).
    """
    report = Report()
    leaves, altered = _leaves(conn, report, progress, consumers)
    heads = _heads(conn)
    report.heads = len(heads)
    report.checkpoints = len(checkpoints)
    sizes = [h.tree_size for h in [*heads, *checkpoints] if h.tree_size <= len(leaves)]
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
    for checkpoint in checkpoints:
        _check_checkpoint(report, checkpoint, len(leaves), found, trusted_keys)
    if unsigned_deadline is not None:
        _check_uncovered(conn, report, max((h.tree_size for h in heads), default=0), unsigned_deadline)
    _check_books(conn, report)
    for consumer in consumers:
        consumer.finish(conn, leaves, report)
    return report


def _check_checkpoint(
    report: Report,
    checkpoint: SignedTreeHead | Checkpoint,
    size: int,
    found: Mapping[merkle.Node, bytes],
    trusted: Mapping[str, Ed25519PublicKey],
) -> None:
    problem: str | None
    if isinstance(checkpoint, Checkpoint):  # a signed note, as /ledger/checkpoint serves it
        name = f"checkpoint of size {checkpoint.tree_size} (a signed note of {checkpoint.origin})"
        problem = checkpoint.signature_problem(trusted)
    else:
        name = f"checkpoint of size {checkpoint.tree_size} signed at {checkpoint.timestamp}"
        key = trusted.get(checkpoint.key_id)
        problem = f"is signed by untrusted key {checkpoint.key_id}" if key is None else None
        if key is not None and not verify_head(checkpoint, key):
            problem = "has an invalid signature"
    if problem is not None:
        report.fail(f"{name} {problem}")
    if checkpoint.tree_size > size:
        report.fail(f"{name} covers more events than the log holds ({size}): the log was cut back", size + 1)
    elif merkle.range_hash(0, checkpoint.tree_size, found) != checkpoint.root_hash:
        report.fail(
            f"{name}: the log's first {checkpoint.tree_size} events do not have its root: the log was rewritten",
            checkpoint.tree_size,
        )


def _check_uncovered(conn: Connection, report: Report, covered: int, deadline: datetime) -> None:
    """Events beyond the newest signed head must be younger than ``deadline``: a healthy
    log signs a head within the signing interval, so older ones mean heads were removed or
    never made."""
    if report.events <= covered:
        return
    first = covered + 1
    found = one(conn, f"SELECT recorded_at FROM ledger_event WHERE seq = {int(first)}")  # noqa: S608
    recorded_at = str(found[0]) if found else ""
    if found is None or datetime.fromisoformat(recorded_at) < deadline:
        signed = f"the newest signed tree head covers {covered}" if covered else "no signed tree head covers any"
        report.fail(
            f"events {first}-{report.events} are not covered by a signed tree head and event {first} was recorded "
            f"at {recorded_at}, before {deadline.isoformat(timespec='seconds')}: {signed} of them",
            first,
        )


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
        bad = [str(row[0]) for batch in stream(conn, sql) for row in batch]
        if bad:
            report.fail(f"books: {len(bad)} {what}: {', '.join(sorted(bad)[:5])}")


def _leaves(
    conn: Connection, report: Report, progress: Callable[[int], None] | None, consumers: Sequence[Consumer]
) -> tuple[list[bytes], dict[int, bytes]]:
    """Every event's recomputed leaf hash, checking order and shape; and the stored leaf
    hashes that differ from the recomputed ones, by leaf index. Consumers receive the
    events they asked for after each batch.

    The work is done a batch at a time in the interpreter's C loops (a string format and a
    hash per event); only a batch that fails a check is walked event by event, to name the
    first event at fault."""
    leaves: list[bytes] = []
    altered: dict[int, bytes] = {}
    route: dict[str, Callable[[list[EventRow]], None]] = {}
    for consumer in consumers:
        for typ in consumer.types:
            if typ in route:
                raise ValueError(f"two consumers ask for {typ} events")
            route[typ] = consumer.take
    expected, gap = 1, False
    sql = "SELECT seq, recorded_at, type, actor, subject, payload, leaf_hash FROM ledger_event ORDER BY seq"
    for batch in stream_ahead(conn, sql):
        # seq is the key and the order: the batch is dense when its ends are where they belong
        if batch[0][0] != expected or batch[-1][0] != expected + len(batch) - 1:
            dense = next(i for i, row in enumerate(batch) if row[0] != expected + i)
            report.fail(f"sequence gap: expected event {expected + dense}, found {batch[dense][0]}", expected + dense)
            batch, gap = batch[:dense], True
        if not well_formed([r[1] for r in batch], [r[2] for r in batch], [r[3] for r in batch], [r[4] for r in batch]):
            for seq, time, typ, actor, subject, *_ in batch:
                if not _WELL_FORMED.fullmatch(f"{time}\x1f{typ}\x1f{actor}\x1f{subject}"):
                    report.fail(f"event {seq} has a malformed time, type, actor or subject", seq)
        computed = leaf_hashes(batch)
        stored = [r[6] for r in batch]
        if computed != stored:
            for row, leaf, kept in zip(batch, computed, stored, strict=True):
                if leaf != kept:
                    report.fail(f"event {row[0]} does not match its recorded leaf hash", row[0])
                    altered[row[0] - 1] = bytes(kept)
        leaves += computed
        expected += len(batch)
        if route:
            for typ, events in groupby(sorted(batch, key=_TYPE), key=_TYPE):
                take = route.get(typ)
                if take is not None:
                    take(list(events))
        if progress:
            progress(len(batch))
        if gap:
            break
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
            stored = [bytes(h) for batch in stream(conn, sql) for (h,) in batch]
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
