"""Reconciling the cooperative's tables with the events that made them.

Each table of the record has a :class:`Table`: which event types make or change its rows,
how an event names the row it concerns (its *key*), and, for every row (or group of rows
under one key), the events the row implies, rebuilt exactly as the service that wrote them
would have recorded them (:class:`Expected`). :class:`Reconciliation` is the consumer that
``ledger.verify`` feeds while it streams the log once: it keeps, per event of those types,
only its key, sequence number, type and actor (a few bytes), and afterwards walks each table
in key order beside the sorted events, rebuilds each implied event's canonical bytes and
compares their leaf hash with the one the log holds. Nothing about a row is trusted that
its event does not prove.

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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from operator import itemgetter
from typing import Any, ClassVar, NamedTuple

import numpy as np
from sqlalchemy import Connection

from ledger import canonical
from ledger.verify import EventRow, Report, one

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
    """Compare the whole table in array operations first (tables with a row per member); the
    row-by-row walk then runs only when something disagrees."""

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

    def rows(self, conn: Connection, report: Report) -> Iterator[Sequence[Expected | tuple[Any, ...]]]:
        """The events the rows imply, in batches: by ascending key, and for each key in the
        order the events were recorded. Tuples in the shape of :class:`Expected` will do
        (straight from a query that builds them)."""
        raise NotImplementedError

    def extra_checks(self, conn: Connection, report: Report) -> None:
        """Checks of rows against other rows the events proved (sets, digests)."""


@dataclass
class _Seen:
    """The events of one table, a few bytes each."""

    keys: array[int]
    seqs: array[int]
    types: array[int]
    actors: array[int]
    prints: array[int]


class Reconciliation:
    """The ``ledger.verify`` consumer that reconciles ``tables`` with the log."""

    def __init__(self, tables: Sequence[Table]) -> None:
        self.tables = list(tables)
        self._route: dict[str, tuple[Table, _Seen, int]] = {}
        self._seen: dict[str, _Seen] = {}
        for table in self.tables:
            seen = _Seen(array("q"), array("q"), array("B"), array("I"), array("q"))
            self._seen[table.name] = seen
            for i, typ in enumerate(table.types):
                self._route[typ] = (table, seen, i)
        self._actors: dict[str, int] = {}
        self._actor_names: list[str] = []
        self._times: dict[int, str] = {}
        self._keeps_time = frozenset().union(*(t.keeps_time for t in self.tables))
        self._legacy: Counter[tuple[str, tuple[str, ...]]] = Counter()
        # A row is compared with its event through a 64-bit digest of the event's time, subject and
        # payload. Python's string hash is SipHash under a key drawn at random for each process, so
        # someone who alters rows cannot aim at a collision; with a fixed PYTHONHASHSEED, SHA-256.
        random_key = sys.flags.hash_randomization and os.environ.get("PYTHONHASHSEED", "random") == "random"
        self.fingerprint = self._sip if random_key else self._sha

    @property
    def types(self) -> list[str]:
        return list(self._route)

    def take(self, events: list[EventRow]) -> None:
        table, seen, type_index = self._route[events[0][2]]
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
        for table in self.tables:
            walk = _Walk(self, table, conn, report)
            if not walk.at_once():
                walk.run()
            table.extra_checks(conn, report)
        for (table_name, fields), count in sorted(self._legacy.items()):
            report.warnings.append(
                f"{count} {table_name} rows were made by events recorded before this version, which do not "
                f"record {', '.join(fields)}: those are not proven"
            )


class _Walk:
    """One table beside its sorted events.

    :meth:`at_once` compares a whole table in a few array operations when every row lines up
    with its event (the common case, and the one that must be fast); :meth:`run` walks row by
    row and names what disagrees."""

    def __init__(self, owner: Reconciliation, table: Table, conn: Connection, report: Report) -> None:
        self.owner, self.table, self.conn, self.report = owner, table, conn, report
        self._ruled = False
        seen = owner._seen[table.name]
        keys, seqs = _int64(seen.keys), _int64(seen.seqs)
        order = np.lexsort((seqs, keys))
        self._sorted = (keys[order], _int64(seen.prints)[order], np.frombuffer(bytes(seen.types), np.uint8)[order])
        self._actor_ids = np.asarray(seen.actors, dtype=np.int64)[order]
        self.keys: list[int] = keys[order].tolist()
        self.seqs: list[int] = seqs[order].tolist()
        self.types: list[int] = np.frombuffer(bytes(seen.types), dtype=np.uint8)[order].tolist()
        self.actors: list[int] = np.asarray(seen.actors, dtype=np.int64)[order].tolist()
        self.prints: list[int] = _int64(seen.prints)[order].tolist()

    def at_once(self) -> bool:
        """Whether the table's rows, read once, are exactly its events (then nothing to report)."""
        table = self.table
        if not table.at_once:
            return False
        keys, prints, types = self._sorted
        actors = self._actor_ids
        if table.last_only and keys.size:
            last = np.r_[keys[1:] != keys[:-1], True]
            keys, prints, types, actors = keys[last], prints[last], types[last], actors[last]
        fingerprint, names = self.owner.fingerprint, self.owner._actors
        kinds = {t: i for i, t in enumerate(table.types)}
        got_keys: list[int] = []
        got_prints: list[int] = []
        got_types: list[int] = []
        got_actors: list[int] = []
        kinds_or_free: dict[str | None, int] = {None: -2}
        kinds_or_free.update(kinds)
        names_or_free: dict[str | None, int] = {None: -2}
        names_or_free.update(names)
        sip = fingerprint == Reconciliation._sip
        self._ruled = True  # the rules that rows() checks report once, here
        for batch in table.rows(self.conn, self.report):  # column by column, in C loops
            if not batch:
                continue
            row_keys, _, kinds_named, subjects, times, actors_named, payloads = zip(*batch, strict=True)
            if sip:
                got_prints.extend(map(hash, zip(times, subjects, payloads, strict=True)))
            else:
                got_prints.extend(map(fingerprint, times, subjects, payloads))
            got_keys.extend(row_keys)
            got_types.extend(map(kinds_or_free.get, kinds_named, repeat(-1)))
            got_actors.extend(map(names_or_free.get, actors_named, repeat(-1)))
            if len(got_keys) > keys.size:
                return False
        if len(got_keys) != keys.size or not np.array_equal(np.asarray(got_keys, dtype=np.int64), keys):
            return False
        row_types, row_actors = np.asarray(got_types, dtype=np.int64), np.asarray(got_actors, dtype=np.int64)
        return bool(
            np.array_equal(np.asarray(got_prints, dtype=np.int64), prints)
            and np.all((row_types == -2) | (row_types == types))
            and np.all((row_actors == -2) | (row_actors == actors))
        )

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
