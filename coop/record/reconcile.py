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
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import numpy as np
from sqlalchemy import Connection

from ledger import canonical
from ledger.events import event_bytes
from ledger.verify import EventRow, Report, one


@dataclass(frozen=True, slots=True)
class Expected:
    """An event a row implies. ``None`` for type, time or actor: the row does not fix it
    (the event's own is used)."""

    row: str
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

    def key(self, event: EventRow) -> int:
        """The row an event concerns; by default the number after the subject's last colon."""
        return int(event[4].rpartition(":")[2])

    def label(self, key: int) -> str:
        """How messages name the row of ``key``."""
        return f"id={key}"

    def rows(self, conn: Connection, report: Report) -> Iterator[tuple[int, list[Expected]]]:
        """Each key's rows, in ascending key order, as the events they imply."""
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


class Reconciliation:
    """The ``ledger.verify`` consumer that reconciles ``tables`` with the log."""

    def __init__(self, tables: Sequence[Table]) -> None:
        self.tables = list(tables)
        self._route: dict[str, tuple[Table, _Seen, int]] = {}
        self._seen: dict[str, _Seen] = {}
        for table in self.tables:
            seen = _Seen(array("q"), array("q"), array("B"), array("I"))
            self._seen[table.name] = seen
            for i, typ in enumerate(table.types):
                self._route[typ] = (table, seen, i)
        self._actors: dict[str, int] = {}
        self._actor_names: list[str] = []
        self._times: dict[int, str] = {}
        self._keeps_time = frozenset().union(*(t.keeps_time for t in self.tables))
        self._legacy: Counter[tuple[str, tuple[str, ...]]] = Counter()

    @property
    def types(self) -> list[str]:
        return list(self._route)

    def take(self, events: list[EventRow]) -> None:
        route, actors, names = self._route, self._actors, self._actor_names
        keeps, times = self._keeps_time, self._times
        for event in events:
            table, seen, type_index = route[event[2]]
            try:
                key = table.key(event)
            except (ValueError, KeyError, TypeError):
                key = -1
            actor = actors.get(event[3])
            if actor is None:
                actor = actors[event[3]] = len(names)
                names.append(event[3])
            seen.keys.append(key)
            seen.seqs.append(event[0])
            seen.types.append(type_index)
            seen.actors.append(actor)
            if event[2] in keeps:
                times[event[0]] = event[1]

    def finish(self, conn: Connection, leaves: Sequence[bytes], report: Report) -> None:
        for table in self.tables:
            _Walk(self, table, conn, leaves, report).run()
            table.extra_checks(conn, report)
        for (table_name, fields), count in sorted(self._legacy.items()):
            report.warnings.append(
                f"{count} {table_name} rows were made by events recorded before this version, which do not "
                f"record {', '.join(fields)}: those are not proven"
            )


class _Walk:
    """One table beside its sorted events."""

    def __init__(
        self, owner: Reconciliation, table: Table, conn: Connection, leaves: Sequence[bytes], report: Report
    ) -> None:
        self.owner, self.table, self.conn, self.leaves, self.report = owner, table, conn, leaves, report
        seen = owner._seen[table.name]
        keys = np.frombuffer(seen.keys, dtype=np.int64) if len(seen.keys) else np.zeros(0, np.int64)
        seqs = np.frombuffer(seen.seqs, dtype=np.int64) if len(seen.seqs) else np.zeros(0, np.int64)
        order = np.lexsort((seqs, keys))
        self.keys: list[int] = keys[order].tolist()
        self.seqs: list[int] = seqs[order].tolist()
        self.types: list[int] = np.frombuffer(seen.types, dtype=np.uint8)[order].tolist() if len(seen.types) else []
        self.actors: list[int] = np.frombuffer(seen.actors, dtype=np.uint32)[order].tolist() if len(seen.actors) else []

    def run(self) -> None:
        keys, n, i = self.keys, len(self.keys), 0
        table, previous = self.table, -1
        for key, expected in table.rows(self.conn, self.report):
            if key <= previous:
                raise AssertionError(f"{table.name}: rows must come in ascending key order")
            previous = key
            while i < n and keys[i] < key:
                self._orphan(i)
                i += 1
            j = i
            while j < n and keys[j] == key:
                j += 1
            found = list(range(i, j))
            i = j
            if not found:
                self.report.disagree(
                    table.name, expected[0].row if expected else table.label(key), None, "no event made it"
                )
                continue
            if table.last_only:
                found, expected = found[-1:], expected[-1:]
            for k, x in zip(found, expected, strict=False):
                self._check(k, x)
            for k in found[len(expected) :]:
                seq = self.seqs[k]
                message = f"the table does not show what event {seq} ({self._type(k)}) recorded"
                self.report.disagree(table.name, table.label(key), seq, message)
            for x in expected[len(found) :]:
                self.report.disagree(table.name, x.row, None, f"the row shows a {x.type} that no event recorded")
        while i < n:
            self._orphan(i)
            i += 1

    def _type(self, k: int) -> str:
        return self.table.types[self.types[k]]

    def _orphan(self, k: int) -> None:
        seq = self.seqs[k]
        key = self.keys[k]
        what = self.table.label(key) if key >= 0 else "(an event naming no row)"
        self.report.disagree(
            self.table.name, what, seq, f"event {seq} ({self._type(k)}) made a row that is not in the table"
        )

    def _check(self, k: int, x: Expected) -> None:
        seq = self.seqs[k]
        typ = x.type or self._type(k)
        actor = x.actor if x.actor is not None else self.owner._actor_names[self.actors[k]]
        time = x.time if x.time is not None else self.owner._times.get(seq)
        if time is not None and typ == self._type(k):
            leaf = hashlib.sha256(b"\x00" + event_bytes(seq, time, typ, actor, x.subject, x.payload)).digest()
            if leaf == self.leaves[seq - 1]:
                return
        self._explain(seq, x)

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
        if differs:
            parts = {table.parts.get(f) for f in differs}
            if len(parts) == 1 and None not in parts:  # only another table's rows differ: name that table
                part = str(parts.pop())
                message = f"differs from event {seq} ({typ}) in {', '.join(differs)}"
                self.report.disagree(part, f"of {table.name} {x.row}", seq, message)
                return
            named = [f"{f} ({table.parts[f]})" if f in table.parts else f for f in differs]
            self.report.disagree(table.name, x.row, seq, f"differs from event {seq} ({typ}) in {', '.join(named)}")
        elif missing:
            self.owner._legacy[(table.name, missing)] += 1


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
