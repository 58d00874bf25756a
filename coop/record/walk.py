"""The row-by-row walk of the reconciliation: one table beside its sorted events (kept a few
bytes each by :class:`Kept` while the log streams by), which names the first row and event
that disagree, and, reading the event back, the fields that differ."""

from __future__ import annotations

import hashlib
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import Connection

from coop.record.rows import Expected, Table
from ledger import canonical
from ledger.verify import EventRow, Report, stream

_SEQ, _ACTOR, _PRINTED = itemgetter(0), itemgetter(3), itemgetter(1, 4, 5)
"""Parts of a streamed event: its sequence number, its actor, and what its digest covers."""


@dataclass
class Seen:
    """The events of one table, a few bytes each."""

    keys: array[int] = field(default_factory=lambda: array("q"))
    seqs: array[int] = field(default_factory=lambda: array("q"))
    types: array[int] = field(default_factory=lambda: array("B"))
    actors: array[int] = field(default_factory=lambda: array("I"))
    prints: array[int] = field(default_factory=lambda: array("q"))


class Kept:
    """The events of the tables, a few bytes each, with what the walk needs to name them:
    actors by number, the times of events whose time the rows do not hold, and the 64-bit
    digest of an event's time, subject and payload that a row is compared with (keyed like
    the tallies' when ``keyed``; see :mod:`coop.record.reconcile`)."""

    def __init__(self, tables: Sequence[Table], keyed: bool) -> None:
        self.seen = {table.name: Seen() for table in tables}
        self.actors: dict[str, int] = {}
        self.actor_names: list[str] = []
        self.times: dict[int, str] = {}
        self.keeps_time = frozenset().union(*(t.keeps_time for t in tables))
        self.legacy: Counter[tuple[str, tuple[str, ...]]] = Counter()
        """Rows proven but for the fields their (older) events lack: (table, fields) -> count."""
        self.fingerprint = self._sip if keyed else self._sha

    def keep(self, table: Table, type_index: int, events: list[EventRow]) -> None:
        """Keep a batch of ``table``'s events (all of its ``type_index``-th type) for the walk."""
        seen = self.seen[table.name]
        seen.keys.extend(table.keys(events))
        seen.seqs.extend(map(_SEQ, events))
        seen.types.frombytes(bytes((type_index,)) * len(events))
        actors = self.actors
        for name in set(map(_ACTOR, events)) - actors.keys():
            self._actor(name)
        seen.actors.extend(map(actors.__getitem__, map(_ACTOR, events)))
        if events[0][2] in self.keeps_time:
            self.times.update((e[0], e[1]) for e in events)
        if self.fingerprint == Kept._sip:
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
        self.actors[name] = len(self.actor_names)
        self.actor_names.append(name)
        return self.actors[name]


EXPLAINED_AT_ONCE = 1000
"""How many doubted rows have their events read back in one query."""


class Walk:
    """One table beside its sorted events, row by row: names what disagrees."""

    def __init__(self, kept: Kept, table: Table, conn: Connection, report: Report) -> None:
        self.kept, self.table, self.conn, self.report = kept, table, conn, report
        self._doubted: list[tuple[int, Expected]] = []
        """Rows that do not match their event's digest, waiting to be read back with it."""
        self._ruled = table.at_once  # its rules were checked when its rows were tallied
        # Sorted into arrays, not lists: a few bytes an event where a list holds an object
        # each (the walk of a big table whose sums differ has millions of events).
        seen = kept.seen.pop(table.name, Seen())
        keys, seqs = _int64(seen.keys), _int64(seen.seqs)
        order = np.lexsort((seqs, keys))
        self.keys = _sorted("q", keys, order)
        self.seqs = _sorted("q", seqs, order)
        self.types = _sorted("B", np.frombuffer(bytes(seen.types), dtype=np.uint8), order)
        self.actors = _sorted("I", np.asarray(seen.actors, dtype=np.uint32), order)
        self.prints = _sorted("q", _int64(seen.prints), order)

    def run(self) -> None:
        keys, seqs, n = self.keys, self.seqs, len(self.keys)
        table, report = self.table, self.report
        types, actors, names, times = self.types, self.actors, self.kept.actor_names, self.kept.times
        prints, fingerprint, table_types, last_only = self.prints, self.kept.fingerprint, table.types, table.last_only
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
                        self._disagree(x[1] or table.label(key), None, "no event made it")
                if start == end:
                    continue
                k = end - 1 if last_only else start + taken
                taken = end - start if last_only else taken + 1
                if k >= end:
                    self._disagree(x[1] or table.label(key), None, f"the row shows a {x[2]} no event recorded")
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
                self._doubted.append((seq, Expected(*x)))
                if len(self._doubted) >= EXPLAINED_AT_ONCE:
                    self._explain()
        if current is not None:
            self._unshown(current, start + taken, end)
        while i < n:
            self._orphan(i)
            i += 1
        self._explain()

    def _unshown(self, key: int, first: int, end: int) -> None:
        """Events of a key beyond those its rows showed."""
        for k in range(first, end):
            message = f"the table does not show what event {self.seqs[k]} ({self._type(k)}) recorded"
            self._disagree(self.table.label(key), self.seqs[k], message)

    def _type(self, k: int) -> str:
        return self.table.types[self.types[k]]

    def _orphan(self, k: int) -> None:
        seq = self.seqs[k]
        key = self.keys[k]
        what = self.table.label(key) if key >= 0 else "(an event naming no row)"
        self._disagree(what, seq, f"event {seq} ({self._type(k)}) made a row that is not in the table")

    def _disagree(self, row: str, seq: int | None, message: str) -> None:
        """Report in the order of the walk: the rows doubted before this one first."""
        self._explain()
        self.report.disagree(self.table.name, row, seq, message)

    def _explain(self) -> None:
        """Read the doubted rows' events back, in one query, and say how each row differs
        from its event, if it does (a row of an older log may differ only in what its event
        lacks: on such a log every row is doubted)."""
        doubted, self._doubted = self._doubted, []
        if not doubted:
            return
        seqs = ", ".join(str(int(seq)) for seq, _ in doubted)
        sql = f"SELECT seq, recorded_at, type, actor, subject, payload FROM ledger_event WHERE seq IN ({seqs})"  # noqa: S608
        events = {e[0]: e[1:] for batch in stream(self.conn, sql, "reconcile_explain") for e in batch}
        for seq, x in doubted:
            self._differs(seq, x, events[seq])

    def _differs(self, seq: int, x: Expected, event: tuple[Any, ...]) -> None:
        table = self.table
        time, typ, actor, subject, payload = event
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
        differs += [
            f"{f} (the row does not show it)" for f in sorted(table.left_out_when_empty) if f in got and f not in want
        ]
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
            self.kept.legacy[(table.name, missing)] += 1


def _sorted(code: str, values: np.ndarray[Any, Any], order: np.ndarray[Any, Any]) -> array[int]:
    sorted_values = array(code)
    sorted_values.frombytes(values[order].tobytes())
    return sorted_values


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
