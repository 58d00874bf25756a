"""Reconciling the cooperative's tables with the events that made them.

Each table of the record has a :class:`Table`: which event types make or change its rows,
how an event names the row it concerns (its *key*), and, for every row (or group of rows
under one key), the events the row implies, rebuilt exactly as the service that wrote them
would have recorded them (:class:`Expected`). :class:`Reconciliation` is the consumer that
``ledger.verify`` feeds while it streams the log once. Nothing about a row is trusted that
its event does not prove.

Two ways to compare, one answer:

* A table with a row per member (``at_once``: millions of rows) is compared as two
  multisets. While the log streams by, every event of its types adds a keyed 64-bit digest of
  what a row can show (type, subject, time, actor, payload; without the parts the table
  leaves to the event) to a sum; its rows, read meanwhile in another process
  (:mod:`coop.record.parallel`), add the digests of the events they imply to another. Equal
  counts and equal sums: the rows are exactly their events. The digest is Python's string
  hash, SipHash under a key drawn at random for each run, so whoever alters rows cannot aim
  at a collision (with a fixed ``PYTHONHASHSEED``, SHA-256 instead).
* Any other table, and a big one whose sums differ, is walked in key order beside its sorted
  events (kept a few bytes each: key, sequence number, type, actor, digest), which names the
  first row and event that disagree.

When a rebuilt event does not match, the event is read back (one lookup) to say which
fields differ. An event with fields this version does not know is accepted (events only
gain fields); an event older than this version that lacks fields this version records is
accepted with a warning naming what it cannot prove.
"""

from __future__ import annotations

import hashlib
import os
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any, ClassVar, NamedTuple

import numpy as np
from sqlalchemy import Connection

from ledger import canonical
from ledger.verify import EventRow, Report, one, stream

_SEQ, _ACTOR, _PRINTED = itemgetter(0), itemgetter(3), itemgetter(1, 4, 5)
"""Parts of a streamed event: its sequence number, its actor, and what its digest covers."""


class Expected(NamedTuple):
    """An event a row implies, keyed like the events of its table. ``row`` names the row
    (``None``: the table's label of the key). ``None`` for type, time or actor: the row does
    not fix it (the event's own is used)."""

    key: int
    row: str | None
    type: str | None
    subject: str
    time: str | None
    actor: str | None
    payload: str


class Table:
    """How one table of the record is made by events, and how to rebuild them from it."""

    name: ClassVar[str]
    types: ClassVar[tuple[str, ...]]
    proves: ClassVar[tuple[str, ...]]
    """The columns its events prove."""
    parts: ClassVar[dict[str, str]] = {}
    """Payload fields that stand for another table's rows (field -> table), for messages."""
    new_fields: ClassVar[frozenset[str]] = frozenset()
    """Payload fields that events recorded before this version lack."""
    timed_since: ClassVar[frozenset[str]] = frozenset()
    """Event types whose time equals the row's only from this version on."""
    keeps_time: ClassVar[frozenset[str]] = frozenset()
    """Event types whose time the row does not hold (the event's time is kept to rebuild it)."""
    last_only: ClassVar[bool] = False
    """The row shows only the newest of its key's events (the earlier ones are history)."""
    at_once: ClassVar[bool] = False
    """Compare the whole table as a multiset of implied events first (tables with a row per
    member); the row-by-row walk then runs only when something disagrees."""
    free: ClassVar[tuple[str, ...]] = ()
    """Parts of an event (``type``, ``actor``) that this table's rows never fix (always
    ``None`` in :meth:`rows`): left out of the multiset comparison."""

    def keys(self, events: list[EventRow]) -> list[int]:
        """The rows a batch of events (of one type) concerns; by default the number after the
        subject's last colon. -1 for an event that names no row."""
        try:
            return [int(e[4].rpartition(":")[2]) for e in events]
        except ValueError:
            return [int(e[4].rpartition(":")[2]) if e[4].rpartition(":")[2].isdigit() else -1 for e in events]

    def label(self, key: int) -> str:
        """How messages name the row of ``key``."""
        return f"id={key}"

    def rows(
        self, conn: Connection, report: Report, ordered: bool = True
    ) -> Iterator[Sequence[Expected | tuple[Any, ...]]]:
        """The events the rows imply, in batches: by ascending key, and for each key in the
        order the events were recorded (in any order when not ``ordered``). Tuples in the
        shape of :class:`Expected` will do (straight from a query that builds them)."""
        raise NotImplementedError

    def extra_checks(self, conn: Connection, report: Report) -> None:
        """Checks of rows against other rows the events proved (sets, digests)."""


@dataclass
class _Seen:
    """The events of one table, a few bytes each."""

    keys: array[int] = field(default_factory=lambda: array("q"))
    seqs: array[int] = field(default_factory=lambda: array("q"))
    types: array[int] = field(default_factory=lambda: array("B"))
    actors: array[int] = field(default_factory=lambda: array("I"))
    prints: array[int] = field(default_factory=lambda: array("q"))


@dataclass
class Tally:
    """A multiset of implied events: how many, and the sum of their digests."""

    count: int = 0
    total: int = 0
    shaped: bool = True
    """Whether every row left the table's free parts to its event (else the walk decides)."""
    last: dict[int, int] = field(default_factory=dict)
    """For a table that shows only each key's newest event: that event's digest, by key."""

    def settled(self) -> Tally:
        if self.last:
            return Tally(len(self.last), sum(self.last.values()), self.shaped and -1 not in self.last)
        return self


_PARTS = ("type", "subject", "time", "actor", "payload")
_IN_EVENT = {"type": 2, "subject": 4, "time": 1, "actor": 3, "payload": 5}
_IN_ROW = {"type": 2, "subject": 3, "time": 4, "actor": 5, "payload": 6}


def _shown(table: Table, at: dict[str, int]) -> itemgetter[Any]:
    return itemgetter(*(at[part] for part in _PARTS if part not in table.free))


def _digests(values: Iterator[tuple[Any, ...]]) -> Iterator[int]:
    """Keyed 64-bit digests of tuples of text (see the module's docstring)."""
    if _RANDOM_KEY:
        return map(hash, values)
    return (int.from_bytes(hashlib.sha256(repr(v).encode()).digest()[:8], "little", signed=True) for v in values)


_RANDOM_KEY = bool(sys.flags.hash_randomization) and os.environ.get("PYTHONHASHSEED", "random") == "random"


def tally_rows(table: Table, conn: Connection, report: Report) -> Tally:
    """The multiset of events ``table``'s rows imply (its rules report to ``report``)."""
    shown, free = _shown(table, _IN_ROW), [itemgetter(_IN_ROW[part]) for part in table.free]
    tally = Tally()
    for batch in table.rows(conn, report, ordered=False):
        tally.count += len(batch)
        tally.total += sum(_digests(map(shown, batch)))
        if any(any(map(part, batch)) for part in free):
            tally.shaped = False
    return tally


class Reconciliation:
    """The ``ledger.verify`` consumer that reconciles ``tables`` with the log."""

    def __init__(self, tables: Sequence[Table]) -> None:
        self.tables = list(tables)
        self._route: dict[str, tuple[Table, int]] = {}
        self._seen: dict[str, _Seen] = {}
        self._tallies: dict[str, Tally] = {}
        self._shown: dict[str, itemgetter[Any]] = {}
        for table in self.tables:
            self._seen[table.name] = _Seen()
            if table.at_once:
                self._tallies[table.name] = Tally()
                self._shown[table.name] = _shown(table, _IN_EVENT)
            for i, typ in enumerate(table.types):
                self._route[typ] = (table, i)
        self._actors: dict[str, int] = {}
        self._actor_names: list[str] = []
        self._times: dict[int, str] = {}
        self._keeps_time = frozenset().union(*(t.keeps_time for t in self.tables))
        self._legacy: Counter[tuple[str, tuple[str, ...]]] = Counter()
        # The walk compares a row with its event through a 64-bit digest of the event's time,
        # subject and payload, keyed like the tallies' (see the module's docstring).
        self.fingerprint = self._sip if _RANDOM_KEY else self._sha
        self.rows: Callable[[Sequence[Table], Report], dict[str, Tally] | None] | None = None
        """The big tables' rows tallied elsewhere (see :mod:`coop.record.parallel`); ``None``
        (or a ``None`` answer): they are tallied here, after the log."""

    @property
    def types(self) -> list[str]:
        return list(self._route)

    def take(self, events: list[EventRow]) -> None:
        table, type_index = self._route[events[0][2]]
        tally = self._tallies.get(table.name)
        if tally is None:
            self._keep(table, type_index, events)
            return
        digests = _digests(map(self._shown[table.name], events))
        tally.count += len(events)
        if table.last_only:
            tally.last.update(zip(table.keys(events), digests, strict=False))
        else:
            tally.total += sum(digests)

    def _keep(self, table: Table, type_index: int, events: list[EventRow]) -> None:
        seen = self._seen[table.name]
        seen.keys.extend(table.keys(events))
        seen.seqs.extend(map(_SEQ, events))
        seen.types.frombytes(bytes((type_index,)) * len(events))
        actors = self._actors
        for name in set(map(_ACTOR, events)) - actors.keys():
            self._actor(name)
        seen.actors.extend(map(actors.__getitem__, map(_ACTOR, events)))
        if events[0][2] in self._keeps_time:
            self._times.update((e[0], e[1]) for e in events)
        if self.fingerprint == Reconciliation._sip:
            seen.prints.extend(map(hash, map(_PRINTED, events)))
        else:
            seen.prints.extend(self.fingerprint(*e) for e in map(_PRINTED, events))

    @staticmethod
    def _sip(time: str, subject: str, payload: str) -> int:
        return hash((time, subject, payload))

    @staticmethod
    def _sha(time: str, subject: str, payload: str) -> int:
        digest = hashlib.sha256(f"{time}\x1f{subject}\x1f{payload}".encode()).digest()
        return int.from_bytes(digest[:8], "little", signed=True)

    def _actor(self, name: str) -> int:
        self._actors[name] = len(self._actor_names)
        self._actor_names.append(name)
        return self._actors[name]

    def finish(self, conn: Connection, leaves: Sequence[bytes], report: Report) -> None:
        big = [table for table in self.tables if table.at_once]
        rows = self.rows(big, report) if self.rows is not None else None
        if rows is None:
            rows = {table.name: tally_rows(table, conn, report) for table in big}
        for table in self.tables:
            if table.at_once:
                mine, theirs = self._tallies[table.name].settled(), rows[table.name]
                if mine.shaped and theirs.shaped and (mine.count, mine.total) == (theirs.count, theirs.total):
                    continue
                self._reread(conn, table)
            _Walk(self, table, conn, report).run()
            table.extra_checks(conn, report)
        for (table_name, fields), count in sorted(self._legacy.items()):
            report.warnings.append(
                f"{count} {table_name} rows were made by events recorded before this version, which do not "
                f"record {', '.join(fields)}: those are not proven"
            )

    def _reread(self, conn: Connection, table: Table) -> None:
        """The events of a big table whose multisets differ, kept for the walk that names why."""
        types = ", ".join(f"'{t}'" for t in table.types)
        sql = (
            "SELECT seq, recorded_at, type, actor, subject, payload, leaf_hash FROM ledger_event "  # noqa: S608
            f"WHERE type IN ({types}) ORDER BY seq"
        )
        for batch in stream(conn, sql, "reconcile_reread"):
            for typ, events in groupby(sorted(batch, key=itemgetter(2)), key=itemgetter(2)):
                self._keep(table, table.types.index(typ), list(events))


class _Walk:
    """One table beside its sorted events, row by row: names what disagrees."""

    def __init__(self, owner: Reconciliation, table: Table, conn: Connection, report: Report) -> None:
        self.owner, self.table, self.conn, self.report = owner, table, conn, report
        self._ruled = table.at_once  # its rules were checked when its rows were tallied
        seen = owner._seen[table.name]
        keys, seqs = _int64(seen.keys), _int64(seen.seqs)
        order = np.lexsort((seqs, keys))
        self.keys: list[int] = keys[order].tolist()
        self.seqs: list[int] = seqs[order].tolist()
        self.types: list[int] = np.frombuffer(bytes(seen.types), dtype=np.uint8)[order].tolist()
        self.actors: list[int] = np.asarray(seen.actors, dtype=np.int64)[order].tolist()
        self.prints: list[int] = _int64(seen.prints)[order].tolist()

    def run(self) -> None:
        keys, seqs, n = self.keys, self.seqs, len(self.keys)
        table, report = self.table, self.report
        types, actors, names, times = self.types, self.actors, self.owner._actor_names, self.owner._times
        prints, fingerprint, table_types, last_only = self.prints, self.owner.fingerprint, table.types, table.last_only
        i = start = end = taken = 0
        current: int | None = None
        for batch in table.rows(self.conn, Report() if self._ruled else report):
            for x in batch:
                key = x[0]
                if key != current:
                    if current is not None:
                        if key < current:
                            raise AssertionError(f"{table.name}: rows must come in ascending key order")
                        self._unshown(current, start + taken, end)
                    while i < n and keys[i] < key:
                        self._orphan(i)
                        i += 1
                    start = i
                    while i < n and keys[i] == key:
                        i += 1
                    end, taken, current = i, 0, key
                    if start == end:
                        report.disagree(table.name, x[1] or table.label(key), None, "no event made it")
                if start == end:
                    continue
                k = end - 1 if last_only else start + taken
                taken = end - start if last_only else taken + 1
                if k >= end:
                    report.disagree(
                        table.name, x[1] or table.label(key), None, f"the row shows a {x[2]} no event recorded"
                    )
                    continue
                seq = seqs[k]
                time = x[4] if x[4] is not None else times.get(seq)
                if (
                    time is not None
                    and (x[2] is None or x[2] == table_types[types[k]])
                    and (x[5] is None or x[5] == names[actors[k]])
                    and fingerprint(time, x[3], x[6]) == prints[k]
                ):
                    continue
                self._explain(seq, Expected(*x))
        if current is not None:
            self._unshown(current, start + taken, end)
        while i < n:
            self._orphan(i)
            i += 1

    def _unshown(self, key: int, first: int, end: int) -> None:
        """Events of a key beyond those its rows showed."""
        for k in range(first, end):
            message = f"the table does not show what event {self.seqs[k]} ({self._type(k)}) recorded"
            self.report.disagree(self.table.name, self.table.label(key), self.seqs[k], message)

    def _type(self, k: int) -> str:
        return self.table.types[self.types[k]]

    def _orphan(self, k: int) -> None:
        seq = self.seqs[k]
        key = self.keys[k]
        what = self.table.label(key) if key >= 0 else "(an event naming no row)"
        self.report.disagree(
            self.table.name, what, seq, f"event {seq} ({self._type(k)}) made a row that is not in the table"
        )

    def _explain(self, seq: int, x: Expected) -> None:
        """Read the event back and say how the row differs from it, if it does."""
        table = self.table
        sql = f"SELECT recorded_at, type, actor, subject, payload FROM ledger_event WHERE seq = {int(seq)}"  # noqa: S608
        found = one(self.conn, sql)
        assert found is not None, "the walk only names events it was given"
        time, typ, actor, subject, payload = found
        got, want = canonical.loads(payload), canonical.loads(x.payload)
        missing = tuple(sorted(f for f in want if f not in got))
        legacy = bool(missing) and set(missing) <= table.new_fields
        differs = [f for f in want if f in got and not _same(want[f], got[f])]
        if x.type is not None and x.type != typ:
            differs.append(f"type (the row implies {x.type}, the event is {typ})")
        if x.subject != subject:
            differs.append(f"subject (the row implies {x.subject}, the event is {subject})")
        if x.actor is not None and x.actor != actor:
            differs.append(f"actor (the row says {x.actor}, the event {actor})")
        if x.time is not None and not _same(x.time, time) and not (legacy and typ in table.timed_since):
            differs.append(f"time (the row says {x.time}, the event {time})")
        if missing and not legacy:
            differs += [f"{f} (not in the event)" for f in missing]
        row = x.row or table.label(x.key)
        if differs:
            parts = {table.parts.get(f) for f in differs}
            if len(parts) == 1 and None not in parts:  # only another table's rows differ: name that table
                part = str(parts.pop())
                message = f"differs from event {seq} ({typ}) in {', '.join(differs)}"
                self.report.disagree(part, f"of {table.name} {row}", seq, message)
                return
            named = [f"{f} ({table.parts[f]})" if f in table.parts else f for f in differs]
            self.report.disagree(table.name, row, seq, f"differs from event {seq} ({typ}) in {', '.join(named)}")
        elif missing:
            self.owner._legacy[(table.name, missing)] += 1


def _int64(values: array[int]) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.frombuffer(values, dtype=np.int64) if len(values) else np.zeros(0, np.int64)


def _same(a: Any, b: Any) -> bool:
    """Equal as recorded: times are equal when they are the same instant, whatever the offset."""
    if a == b:
        return True
    if isinstance(a, str) and isinstance(b, str):
        try:
            return datetime.fromisoformat(a) == datetime.fromisoformat(b)
        except ValueError:
            return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return False
