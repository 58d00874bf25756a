"""How a table of the record is described for its reconciliation: which event types make
or change its rows, how an event names the row it concerns (its *key*), and the events each
row implies (:class:`Expected`), rebuilt exactly as the service that wrote them would have
recorded them. The tables themselves are in :mod:`coop.record.tables`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, NamedTuple

from sqlalchemy import Connection

from ledger.verify import EventRow, Report


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
    left_out_when_empty: ClassVar[frozenset[str]] = frozenset()
    """Payload fields an event has only when they are not empty: an event with one whose row
    implies none (the row lost it) disagrees."""
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
