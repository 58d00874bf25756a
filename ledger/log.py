"""Appending to the ledger of record inside the caller's transaction, and reading it back.

``append`` records an event in the session's open transaction, so the state change and
its event commit or vanish together. The first append of a transaction makes sure it
holds the writers' lock (PostgreSQL: a transaction-scoped advisory lock, which the
application's write transactions take as their first statement; SQLite: the write lock
that ``BEGIN IMMEDIATE`` already holds), reads the tree's size and right edge once, and
from then on extends the tree in memory (a savepoint that rolls back takes its events from
memory too). Sequence numbers are therefore dense and never forked, whatever the number of
concurrent writers. Each event row keeps its leaf hash; perfect subtrees of 16 leaves and
more are stored as they complete, smaller ones are recomputed from at most 16 leaf hashes
when a proof needs them.

``seal`` (called by the application's commit point, before COMMIT) signs a tree head when
the last one is older than the configured interval; :func:`sign_current_head` signs one
on demand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, and_, event, func, insert, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel import col

from ledger import canonical, merkle
from ledger.events import Event, EventError, check_size, check_token, event_bytes, format_time
from ledger.models import STORED_FROM_LEVEL, LedgerEvent, LedgerNode, LedgerTreeHead
from ledger.signing import SignedTreeHead, Signer

_STATE = "ledger.append_state"
_SAVEPOINTS = "ledger.savepoints"
_CACHE = "ledger.cache"
_LOCKED = "ledger.locked"
# Any constant will do; it names "the ledger of record's write lock" for pg_advisory_xact_lock.
WRITE_LOCK_KEY = 7_201_001


@dataclass
class _AppendState:
    size: int
    stack: list[bytes]
    appended: int = 0
    signed_at: datetime | None = None


@dataclass
class LedgerCache:
    """What one process remembers between transactions to save round trips: the tree's
    right edge after its last commit, and when it last saw a head signed. The edge is
    used only when the log's size (read under the lock) still matches it, so a cache
    made stale by another process costs a reload, never a wrong tree."""

    edge: tuple[int, tuple[bytes, ...]] = (-1, ())
    last_signed_at: datetime | None = None


def use_cache(session: Session, cache: LedgerCache) -> None:
    """Let this session's transaction read and, once committed, update ``cache``."""
    session.info[_CACHE] = cache


@dataclass(frozen=True, slots=True)
class NewEvent:
    type: str
    actor: str
    subject: str
    payload: dict[str, Any]
    at: datetime | None = None
    """When it happened, if not when the events are appended."""


def take_write_lock(conn: Connection, lock_timeout_ms: int | None = None) -> None:
    """Hold the writers' lock until the transaction ends (PostgreSQL), waiting at most
    ``lock_timeout_ms`` for it and for every lock after it in the transaction (when given).
    SQLite needs no call: its writers hold the database's own write lock from ``BEGIN IMMEDIATE``."""
    if conn.dialect.name != "postgresql":
        return
    if lock_timeout_ms is None:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
        return
    # One round trip: the timeout is set (for this transaction) in the subquery, before the lock.
    conn.execute(
        text("SELECT pg_advisory_xact_lock(:key) FROM (SELECT set_config('lock_timeout', :timeout, true)) AS timeout"),
        {"key": WRITE_LOCK_KEY, "timeout": f"{int(lock_timeout_ms)}ms"},
    )


def lock_held(session: Session) -> None:
    """Say that ``session``'s transaction holds the writers' lock from its first statement
    (its engine takes it when it begins), so that appending need not ask for it again."""
    session.info[_LOCKED] = True


def _lock(session: Session) -> None:
    if not session.info.get(_LOCKED):
        take_write_lock(session.connection())


def _stored_nodes(session: Session, keys: list[merkle.Node]) -> dict[merkle.Node, bytes]:
    # One OR-branch per level ("level = ? AND idx IN (...)"): both engines answer it from
    # the primary key, where SQLite would scan the table for a row-value IN.
    by_level: dict[int, list[int]] = {}
    for level, idx in keys:
        by_level.setdefault(level, []).append(idx)
    if not by_level:
        return {}
    level_col, idx_col = col(LedgerNode.level), col(LedgerNode.idx)
    rows = session.execute(
        select(level_col, idx_col, col(LedgerNode.hash)).where(
            or_(*(and_(level_col == level, idx_col.in_(idxs)) for level, idxs in by_level.items()))
        )
    )
    return {(level, idx): bytes(h) for level, idx, h in rows}


def _small_nodes(session: Session, keys: list[merkle.Node]) -> dict[merkle.Node, bytes]:
    """Subtrees below the stored level, recomputed from their events' leaf hashes."""
    seqs = sorted({i + 1 for level, idx in keys for i in range(idx << level, (idx + 1) << level)})
    leaves: dict[int, bytes] = {}
    for start in range(0, len(seqs), 500):
        rows = session.execute(
            select(col(LedgerEvent.seq), col(LedgerEvent.leaf_hash)).where(
                col(LedgerEvent.seq).in_(seqs[start : start + 500])
            )
        )
        leaves.update((seq, bytes(h)) for seq, h in rows)
    found: dict[merkle.Node, bytes] = {}
    for level, idx in keys:
        span = [leaves.get(i + 1) for i in range(idx << level, (idx + 1) << level)]
        if all(h is not None for h in span):
            found[(level, idx)] = merkle.root_of_leaf_hashes([h for h in span if h is not None])
    return found


def _fetch_nodes(session: Session, wanted: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
    keys = sorted(set(wanted))
    found = _stored_nodes(session, [k for k in keys if k[0] >= STORED_FROM_LEVEL])
    found.update(_small_nodes(session, [k for k in keys if k[0] < STORED_FROM_LEVEL]))
    missing = [k for k in keys if k not in found]
    if missing:
        raise LookupError(f"ledger nodes missing: {missing[:5]}")
    return found


def tree_size(session: Session) -> int:
    """The number of events in the log (the newest sequence number)."""
    return int(session.execute(select(func.coalesce(func.max(col(LedgerEvent.seq)), 0))).scalar_one())


def _state(session: Session) -> _AppendState:
    state: _AppendState | None = session.info.get(_STATE)
    if state is None:
        _lock(session)
        size = tree_size(session)
        cache: LedgerCache | None = session.info.get(_CACHE)
        if cache is not None and cache.edge[0] == size:
            stack = list(cache.edge[1])
        else:
            edge = merkle.frontier_nodes(size)
            nodes = _fetch_nodes(session, edge)
            stack = [nodes[n] for n in edge]
        state = _AppendState(size=size, stack=stack)
        session.info[_STATE] = state
    return state


def next_seq(session: Session) -> int:
    """The sequence number the next append in this transaction will get (taking the log's
    lock), so that a row written before its event can name it."""
    return _state(session).size + 1


def append_many(session: Session, events: Sequence[NewEvent], at: datetime | None = None) -> list[Event]:
    """Record events in the session's transaction; returns them with their sequence numbers."""
    state = _state(session)
    time = format_time(at or datetime.now(UTC))
    event_rows: list[dict[str, Any]] = []
    node_rows: list[dict[str, Any]] = []
    recorded: list[Event] = []
    for e in events:
        check_token("type", e.type)
        check_token("actor", e.actor)
        check_token("subject", e.subject)
        try:
            payload = canonical.dumps(e.payload)
        except canonical.CanonicalJsonError as exc:
            raise EventError(str(exc)) from exc
        seq = state.size + 1
        when = time if e.at is None else format_time(e.at)
        leaf = merkle.leaf_hash(check_size(event_bytes(seq, when, e.type, e.actor, e.subject, payload)))
        index, level, h = state.size, 0, leaf
        while index & 1:
            h = merkle.node_hash(state.stack.pop(), h)
            index, level = index >> 1, level + 1
            if level >= STORED_FROM_LEVEL:
                node_rows.append({"level": level, "idx": index, "hash": h})
        state.stack.append(h)
        state.size = seq
        state.appended += 1
        row = {"seq": seq, "recorded_at": when, "type": e.type, "actor": e.actor, "subject": e.subject}
        event_rows.append({**row, "payload": payload, "leaf_hash": leaf})
        recorded.append(Event(seq, when, e.type, e.actor, e.subject, payload))
    # Rows, not the ORM's bulk insert (which costs more than the INSERT for an event or two);
    # nothing here names a row the session has yet to write.
    conn = session.connection()
    if event_rows:
        conn.execute(_INSERT_EVENT, event_rows)
    if node_rows:
        conn.execute(_INSERT_NODE, node_rows)
    return recorded


_INSERT_EVENT = insert(LedgerEvent.__table__)  # type: ignore[attr-defined]
_INSERT_NODE = insert(LedgerNode.__table__)  # type: ignore[attr-defined]


def append(
    session: Session, type: str, actor: str, subject: str, payload: dict[str, Any], at: datetime | None = None
) -> Event:
    """Record one event in the session's transaction."""
    return append_many(session, [NewEvent(type, actor, subject, payload)], at=at)[0]


def pending_root(session: Session) -> tuple[int, bytes] | None:
    """Size and root of the tree as this transaction leaves it, if it appended."""
    state: _AppendState | None = session.info.get(_STATE)
    if state is None or state.appended == 0:
        return None
    return state.size, merkle.fold(state.stack)


def latest_head(session: Session) -> SignedTreeHead | None:
    row = session.execute(select(LedgerTreeHead).order_by(col(LedgerTreeHead.tree_size).desc()).limit(1)).scalar()
    return _head(row) if row else None


def head_at(session: Session, tree_size: int) -> SignedTreeHead | None:
    """The signed head of exactly ``tree_size`` events, if one was signed."""
    row = session.execute(select(LedgerTreeHead).where(col(LedgerTreeHead.tree_size) == tree_size)).scalar()
    return _head(row) if row else None


def _head(row: LedgerTreeHead) -> SignedTreeHead:
    return SignedTreeHead(row.tree_size, bytes(row.root_hash), row.signed_at, row.key_id, bytes(row.signature))


def _store_head(session: Session, head: SignedTreeHead) -> None:
    values = {
        "tree_size": head.tree_size,
        "root_hash": head.root_hash,
        "signed_at": head.timestamp,
        "key_id": head.key_id,
        "signature": head.signature,
    }
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(LedgerTreeHead).values(**values).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(LedgerTreeHead).values(**values).on_conflict_do_nothing()
    session.execute(stmt)


def seal(
    session: Session, signer: Signer, interval_seconds: float, now: datetime | None = None
) -> SignedTreeHead | None:
    """Before COMMIT: sign the new head when the last signed one is older than the interval."""
    pending = pending_root(session)
    if pending is None:
        return None
    now = now or datetime.now(UTC)
    cache: LedgerCache | None = session.info.get(_CACHE)
    last_signed_at = cache.last_signed_at if cache is not None else None
    if last_signed_at is None or (now - last_signed_at).total_seconds() >= interval_seconds:
        last = latest_head(session)
        last_signed_at = datetime.fromisoformat(last.timestamp) if last else None
    if last_signed_at is not None and (now - last_signed_at).total_seconds() < interval_seconds:
        if cache is not None:
            cache.last_signed_at = last_signed_at
        return None
    head = signer.sign(pending[0], pending[1], format_time(now))
    _store_head(session, head)
    state: _AppendState = session.info[_STATE]
    state.signed_at = now
    return head


def committed(session: Session) -> None:
    """After COMMIT: remember the new right edge (and signing time) for the next transaction."""
    state: _AppendState | None = session.info.get(_STATE)
    cache: LedgerCache | None = session.info.get(_CACHE)
    if state is not None and cache is not None and state.appended:
        cache.edge = (state.size, tuple(state.stack))
        if state.signed_at is not None:
            cache.last_signed_at = state.signed_at


@dataclass(frozen=True, slots=True)
class Edge:
    """Where a session left the tree, for the next session of the same transaction."""

    size: int
    stack: tuple[bytes, ...]
    appended: int


def edge(session: Session) -> Edge | None:
    """The tree as this session's transaction leaves it, if it read or extended it."""
    state: _AppendState | None = session.info.get(_STATE)
    return None if state is None else Edge(state.size, tuple(state.stack), state.appended)


def go_on_from(session: Session, edge: Edge) -> None:
    """Let ``session`` (in the transaction that left ``edge``, e.g. the next savepoint of a
    group commit) append after it; it extends a copy, so a rollback leaves ``edge`` whole."""
    session.info[_STATE] = _AppendState(size=edge.size, stack=list(edge.stack), appended=edge.appended)


@event.listens_for(Session, "after_transaction_create")
def _savepoint_begun(session: Session, transaction: SessionTransaction) -> None:
    """Remember where a savepoint (``begin_nested``) found the tree, to go back there if it
    rolls back."""
    if transaction.nested:
        state: _AppendState | None = session.info.get(_STATE)
        kept = None if state is None else _AppendState(state.size, list(state.stack), state.appended, state.signed_at)
        saved: WeakKeyDictionary[SessionTransaction, _AppendState | None]
        saved = session.info.setdefault(_SAVEPOINTS, WeakKeyDictionary())
        saved[transaction] = kept


@event.listens_for(Session, "after_soft_rollback")
def _savepoint_rolled_back(session: Session, previous: SessionTransaction) -> None:
    """The events appended in a savepoint that rolled back are gone from the database: the
    tree in memory goes back to where the savepoint found it (or, read within it, is read
    again), so the next event takes the next number."""
    saved = session.info.get(_SAVEPOINTS)
    if not previous.nested or saved is None or previous not in saved:
        return
    kept = saved.pop(previous)
    if kept is None:
        session.info.pop(_STATE, None)
    else:
        session.info[_STATE] = kept


def forget(session: Session) -> None:
    """After COMMIT or ROLLBACK: the next transaction starts from the database again."""
    session.info.pop(_STATE, None)


def root_at(session: Session, size: int) -> bytes:
    """The root over the first ``size`` events, from stored subtree hashes."""
    return merkle.range_hash(0, size, _fetch_nodes(session, merkle.perfect_nodes(0, size)))


def newest_head(session: Session, signer: Signer, now: datetime | None = None) -> SignedTreeHead | None:
    """What a reader is shown: the newest stored head, or for an empty log the signed empty
    tree (computed, never stored). None when events exist but no head was signed yet.
    Reads only: heads are signed at commit and on a schedule, never because someone looked."""
    last = latest_head(session)
    if last is not None:
        return last
    if tree_size(session) == 0:
        return signer.sign(0, merkle.EMPTY_ROOT, format_time(now or datetime.now(UTC)))
    return None


def unsigned_events(session: Session) -> int:
    """How many of the newest events no signed head covers yet."""
    last = latest_head(session)
    return tree_size(session) - (last.tree_size if last else 0)


def sign_current_head(session: Session, signer: Signer, now: datetime | None = None) -> SignedTreeHead:
    """The signed head of the log as it is now, signing (and storing) one when needed.

    Must run in a write transaction: it takes the log's lock so the size it signs is final.
    """
    _lock(session)
    size = tree_size(session)
    last = latest_head(session)
    if last is not None and last.tree_size == size and last.key_id == signer.key_id:
        return last
    head = signer.sign(size, root_at(session, size), format_time(now or datetime.now(UTC)))
    if size > 0:
        _store_head(session, head)
    return head


@dataclass(frozen=True, slots=True)
class InclusionProof:
    seq: int
    tree_size: int
    leaf_hash: bytes
    path: list[bytes]
    root_hash: bytes


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    first: int
    second: int
    first_root: bytes
    second_root: bytes
    path: list[bytes]


def inclusion_proof(session: Session, seq: int, size: int) -> InclusionProof:
    """The audit path of event ``seq`` in the tree of ``size`` events (one node lookup)."""
    ranges = merkle.inclusion_ranges(seq - 1, size)
    nodes = _fetch_nodes(session, merkle.nodes_needed([*ranges, (seq - 1, seq), (0, size)]))
    return InclusionProof(
        seq=seq,
        tree_size=size,
        leaf_hash=nodes[(0, seq - 1)],
        path=[merkle.range_hash(lo, hi, nodes) for lo, hi in ranges],
        root_hash=merkle.range_hash(0, size, nodes),
    )


def consistency_proof(session: Session, first: int, second: int) -> ConsistencyProof:
    """The proof that the first ``first`` events are a prefix of the first ``second``."""
    ranges = merkle.consistency_ranges(first, second)
    nodes = _fetch_nodes(session, merkle.nodes_needed([*ranges, (0, first), (0, second)]))
    return ConsistencyProof(
        first=first,
        second=second,
        first_root=merkle.range_hash(0, first, nodes),
        second_root=merkle.range_hash(0, second, nodes),
        path=[merkle.range_hash(lo, hi, nodes) for lo, hi in ranges],
    )


def events_after(session: Session, after_seq: int, limit: int) -> list[Event]:
    rows = session.execute(
        select(LedgerEvent).where(col(LedgerEvent.seq) > after_seq).order_by(col(LedgerEvent.seq)).limit(limit)
    ).scalars()
    return [Event(r.seq, r.recorded_at, r.type, r.actor, r.subject, r.payload) for r in rows]


def events_of(session: Session, subject: str) -> list[Event]:
    """Every event about ``subject``, in sequence order."""
    rows = session.execute(
        select(LedgerEvent).where(col(LedgerEvent.subject) == subject).order_by(col(LedgerEvent.seq))
    ).scalars()
    return [Event(r.seq, r.recorded_at, r.type, r.actor, r.subject, r.payload) for r in rows]
