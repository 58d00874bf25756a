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
them and reports what disagrees.

Rows are streamed through the database driver: on PostgreSQL the log on a connection of its
own in the same snapshot, its rows sent ahead in chunks while this side hashes (other
queries through server-side cursors); the tree is rebuilt a batch at a time, each level
hashed once (:mod:`ledger.rebuild`): memory is a few batches and one hash per level,
whatever the length of the log (besides what the consumers keep).
"""

from __future__ import annotations

import queue
import re
import threading
from collections import Counter
from collections.abc import Callable, Collection, Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, Protocol, TypeVar, cast

import psycopg
import psycopg.sql
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection

from ledger import merkle
from ledger.events import TIME, TOKEN, leaf_hashes, well_formed
from ledger.notes import Checkpoint
from ledger.rebuild import NODES_SQL, Rebuilt, Stored, StoredSubtrees, stored_until
from ledger.signing import SignedTreeHead, verify_head

BATCH = 20_000
NODES_BATCH = 2_000
"""Stored subtrees read ahead at each level (a batch of events completes a sixteenth as many at the lowest)."""
T = TypeVar("T")
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

    ``types`` names the event types it reads; ``take`` receives them as the log streams by
    (once), in batches of one type each, each type's events in sequence order (a batch's types
    one after the other, in no set order); ``finish`` then compares its
    tables and reports to ``report`` (whose ``events`` says how many the log holds).
    """

    @property
    def types(self) -> Collection[str]: ...

    def take(self, events: list[EventRow]) -> None: ...

    def finish(self, conn: Connection, report: Report) -> None: ...


ALONE = "ledger_read_alone"
"""The execution option that marks a connection whose queries run one at a time, each read
to its end before the next: :func:`stream` then reads them in chunks (see :func:`read_alone`)."""
CHUNKS = psycopg.pq.version() >= 170000
"""Whether the driver's libpq can send a query's rows in chunks (PostgreSQL 17's libpq on)."""


def read_alone(conn: Connection) -> None:
    """Promise that, from now on, ``conn`` runs one query at a time, each read to its end
    before the next starts (a process that only tallies a table, say). On PostgreSQL,
    :func:`stream` then reads without a cursor on the server: the rows come in chunks that
    the server sends ahead while this side works, with no round trip for each batch (through
    a cursor's FETCHes, a million events took the server nearly twice the time). A query
    stopped early is cancelled, which ends the transaction. The mark is ``conn``'s own (an
    execution option), not the pooled connection's: it ends when ``conn`` is closed."""
    conn.execution_options(**{ALONE: True})


def stream(
    conn: Connection, sql: str, name: str = "ledger_verify", size: int | None = None
) -> Iterator[list[tuple[Any, ...]]]:
    """Rows in batches straight from the driver: no per-row ORM or Core processing. On
    PostgreSQL in the binary protocol (hashes arrive as bytes, not as hex to decode), through
    a server-side cursor called ``name`` (unique among those open at once), or in chunks on
    a connection marked with :func:`read_alone`."""
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql" and CHUNKS and conn.get_execution_options().get(ALONE):
        yield from chunked(raw, sql, size or BATCH)
        return
    cursor = raw.cursor(name=name, binary=True) if conn.dialect.name == "postgresql" else raw.cursor()
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(size or BATCH):
            yield batch
    finally:
        cursor.close()


def chunked(raw: psycopg.Connection[Any], sql: str, size: int) -> Iterator[list[tuple[Any, ...]]]:
    """A query's rows in batches of ``size`` on a PostgreSQL connection that runs nothing
    else until they end (libpq's chunked rows; see :func:`read_alone`)."""
    cursor = raw.cursor(binary=True)
    rows = cast(Generator[tuple[Any, ...], None, None], cursor.stream(sql, size=size))  # closed when we stop early
    try:
        while batch := list(islice(rows, size)):
            yield batch
    finally:
        rows.close()
        cursor.close()


@contextmanager
def same_snapshot(conn: Connection) -> Iterator[psycopg.Connection[Any] | None]:
    """On PostgreSQL (a primary or a hot standby, with a libpq that sends rows in chunks): a
    read-only driver connection of its own, outside the pool, in the snapshot ``conn`` has
    now (``conn``'s for the whole transaction when that is REPEATABLE READ); closed
    afterwards. ``None`` elsewhere, within a savepoint (which cannot export its snapshot),
    in a transaction that has written (another would not see its writes), or when another
    connection cannot be had in that snapshot."""
    if conn.dialect.name != "postgresql" or not CHUNKS or conn.in_nested_transaction():
        yield None
        return
    snapshot, wrote = conn.exec_driver_sql(
        "SELECT pg_export_snapshot(), pg_current_xact_id_if_assigned() IS NOT NULL"
    ).one()
    if wrote:
        yield None
        return
    cargs, cparams = conn.dialect.create_connect_args(conn.engine.url)
    raw = None
    try:
        raw = psycopg.connect(*cargs, **cparams)
        raw.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        raw.read_only = True
        raw.execute(psycopg.sql.SQL("SET TRANSACTION SNAPSHOT {}").format(str(snapshot)))
    except psycopg.Error:  # at its connection limit, or another server of a multi-host address
        if raw is not None:
            raw.close()
        yield None  # ``conn`` reads the log
        return
    try:
        yield raw
    finally:
        raw.close()  # its read-only transaction ends with it


def ahead(batches: Generator[T, None, None], name: str = "ledger_verify") -> Iterator[T]:
    """``batches``, with the next ones fetched by a thread of their own while the caller
    works on this one: the database produces rows (PostgreSQL in its server process, SQLite
    with the interpreter's lock released) while the caller hashes. Nothing else may use the
    connection they are read from until the iteration ends."""
    fetched: queue.Queue[tuple[T] | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def offer(item: tuple[T] | BaseException | None) -> bool:
        """Queue ``item`` unless the caller stopped reading (then nobody would take it); whether queued."""
        while not stop.is_set():
            try:
                fetched.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            for batch in batches:
                if not offer((batch,)):
                    return
            offer(None)
        except BaseException as exc:  # handed to the caller, who raises it
            offer(exc)
        finally:
            batches.close()

    fetcher = threading.Thread(target=fetch, name=f"{name}-fetch", daemon=True)
    fetcher.start()
    try:
        while (item := fetched.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item[0]
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
    heads = _heads(conn)  # before the log, which only grows: a head read later may be beyond the log read
    report.heads = len(heads)
    report.checkpoints = len(checkpoints)
    tree = Rebuilt(merkle.nodes_needed((0, h.tree_size) for h in [*heads, *checkpoints]))
    _leaves(conn, report, progress, consumers, tree)
    size = report.events
    report.root_hash = tree.close()
    for head in heads:
        if head.tree_size > size:
            report.fail(f"signed tree head of size {head.tree_size} is beyond the log of {size} events")
            continue
        _check_head(report, head, merkle.range_hash(0, head.tree_size, tree.found), trusted_keys)
    for checkpoint in checkpoints:
        _check_checkpoint(report, checkpoint, size, tree.found, trusted_keys)
    if unsigned_deadline is not None:
        _check_uncovered(conn, report, max((h.tree_size for h in heads), default=0), unsigned_deadline)
    _check_books(conn, report)
    for consumer in consumers:
        consumer.finish(conn, report)
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
    conn: Connection,
    report: Report,
    progress: Callable[[int], None] | None,
    consumers: Sequence[Consumer],
    tree: Rebuilt,
) -> None:
    """Every event's leaf hash recomputed and pushed onto ``tree``, checking order and shape,
    and the stored subtrees compared as they complete. Consumers receive the events they
    asked for after each batch.

    The work is done a batch at a time in the interpreter's C loops (a string format and a
    hash per event); only a batch that fails a check is walked event by event, to name the
    first event at fault. The stored subtrees were built from the stored leaf hashes: once
    an event no longer matches its own, they are compared with a tree of those (so one
    altered event is reported once), while ``tree`` goes on with the real content, for the
    heads."""
    route: dict[str, Callable[[list[EventRow]], None]] = {}
    for consumer in consumers:
        for typ in consumer.types:
            if typ in route:
                raise ValueError(f"two consumers ask for {typ} events")
            route[typ] = consumer.take
    subtrees = StoredSubtrees()
    tree.on_level = subtrees.compare
    recorded = tree
    expected, gap, bound = 1, False, 0
    for batch, stored_nodes in ahead(_with_stored_subtrees(conn)):
        subtrees.expect(stored_nodes)
        bound = batch[-1][0]
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
            if recorded is tree:
                recorded = tree.fork()
        tree.push(computed)
        if recorded is not tree:
            recorded.push([bytes(leaf) for leaf in stored])
        expected += len(batch)
        if route:
            for typ, events in _by_type(batch).items():
                take = route.get(typ)
                if take is not None:
                    take(events)
        if progress:
            progress(len(batch))
        if gap:
            break
    report.events = tree.size
    sql = f"SELECT level, count(*) FROM ledger_node WHERE ((idx + 1) << level) > {int(bound)} GROUP BY level"  # noqa: S608
    beyond = Counter({level: count for batch in stream(conn, sql) for level, count in batch})
    for message, first in subtrees.problems(beyond):
        report.fail(message, first)
    report.nodes = sum(subtrees.stored.values())


def _by_type(batch: list[EventRow]) -> dict[str, list[EventRow]]:
    """A batch's events by type, each type's in the batch's order (one pass: a third of a sort's time)."""
    found: dict[str, list[EventRow]] = {}
    for event in batch:
        same = found.get(event[2])
        if same is None:
            found[event[2]] = [event]
        else:
            same.append(event)
    return found


def _with_stored_subtrees(conn: Connection) -> Generator[tuple[list[EventRow], Stored], None, None]:
    """The log in batches, each with the stored subtrees that end within it."""
    sql = "SELECT seq, recorded_at, type, actor, subject, payload, leaf_hash FROM ledger_event ORDER BY seq"
    until = stored_until(
        lambda level: stream(conn, NODES_SQL.format(level=int(level)), f"ledger_verify_nodes_{level}", NODES_BATCH)
    )
    # the log on a connection of its own, so that the stored subtrees can be read beside it on this one
    with same_snapshot(conn) as own:
        for batch in stream(conn, sql) if own is None else chunked(own, sql, BATCH):
            yield batch, until(batch[-1][0])


def _check_head(report: Report, head: SignedTreeHead, root: bytes, trusted: Mapping[str, Ed25519PublicKey]) -> None:
    key = trusted.get(head.key_id)
    if key is None:
        report.fail(f"tree head of size {head.tree_size} is signed by untrusted key {head.key_id}")
    elif not verify_head(head, key):
        report.fail(f"tree head of size {head.tree_size} has an invalid signature")
    if head.root_hash != root:
        report.fail(f"events up to {head.tree_size} do not match the signed tree head of that size", head.tree_size)
