"""Reconciling the cooperative's tables with the events that made them.

Each table of the record has a :class:`~coop.record.rows.Table`: which event types make or change its rows,
how an event names the row it concerns (its *key*), and, for every row (or group of rows
under one key), the events the row implies, rebuilt exactly as the service that wrote them
would have recorded them (:class:`~coop.record.rows.Expected`). :class:`Reconciliation` is the consumer that
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
  first row and event that disagree (:mod:`coop.record.walk`).

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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import Connection

from coop.record.rows import Table
from coop.record.walk import Kept, Walk
from ledger.verify import EventRow, Report, stream


@dataclass
class Tally:
    """A multiset of implied events: how many, and the sum of their digests."""

    count: int = 0
    total: int = 0
    shaped: bool = True
    """Whether every row left the table's free parts to its event (else the walk decides)."""
    keys: array[int] = field(default_factory=lambda: array("q"))
    prints: array[int] = field(default_factory=lambda: array("q"))
    seqs: array[int] = field(default_factory=lambda: array("q"))
    """For a table that shows only each key's newest event: the keys, digests and sequence
    numbers of its events, 24 bytes each (a dictionary by key holds seven times that), in
    any order (a batch's types come one after the other)."""

    def settled(self) -> Tally:
        """For a table that shows only each key's newest event: the multiset of those."""
        if not self.keys:
            return self
        keys, prints = np.frombuffer(self.keys, dtype=np.int64), np.frombuffer(self.prints, dtype=np.int64)
        order = np.lexsort((np.frombuffer(self.seqs, dtype=np.int64), keys))  # by key, then by sequence
        keys, prints = keys[order], prints[order]
        last = np.flatnonzero(np.append(keys[1:] != keys[:-1], True))  # each key's newest
        newest, chosen = keys[last], prints[last]
        total = sum(sum(chosen[i : i + _SUMMED].tolist()) for i in range(0, len(chosen), _SUMMED))
        return Tally(len(newest), total, self.shaped and not bool((newest == -1).any()))


_SUMMED = 1 << 20
"""Digests added up as Python integers (exactly) this many at a time."""

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
        self._tallies: dict[str, Tally] = {}
        self._shown: dict[str, itemgetter[Any]] = {}
        for table in self.tables:
            if table.at_once:
                self._tallies[table.name] = Tally()
                self._shown[table.name] = _shown(table, _IN_EVENT)
            for i, typ in enumerate(table.types):
                self._route[typ] = (table, i)
        # The walk compares a row with its event through a 64-bit digest of the event's time,
        # subject and payload, keyed like the tallies' (see the module's docstring).
        self.kept = Kept(self.tables, keyed=_RANDOM_KEY)
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
            self.kept.keep(table, type_index, events)
            return
        digests = _digests(map(self._shown[table.name], events))
        tally.count += len(events)
        if table.last_only:
            tally.keys.extend(table.keys(events))
            tally.prints.extend(digests)
            tally.seqs.extend(event[0] for event in events)
        else:
            tally.total += sum(digests)

    def finish(self, conn: Connection, report: Report) -> None:
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
            Walk(self.kept, table, conn, report).run()
            table.extra_checks(conn, report)
        for (table_name, fields), count in sorted(self.kept.legacy.items()):
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
                self.kept.keep(table, table.types.index(typ), list(events))
