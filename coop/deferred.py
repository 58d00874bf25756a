"""Work a write leaves to the end of its transaction, done once for all the writes of the
transaction: for one writer's unit of work, just before it commits; in a group commit
(:mod:`coop.write_groups`), once for every writer of the group, just before the group seals
the ledger and commits. A writer whose work fails takes what it left with it.

Such work must give the same rows whether it runs after each write or once after many (a
member's profile counted again from their rows, say), and nothing read in the transaction
before it runs may depend on it (or the reader must tell, as the profiles' watermark does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session, SessionTransaction

Settle = Callable[[Connection, list[Any]], None]
"""Does the work left to it: called once with every item left to it, in the order left."""

Pending = dict[Settle, list[Any]]

_KEY = "coop.deferred"


def later(session: Session, settle: Settle, item: Any) -> None:
    """Leave ``item`` to ``settle``, at the end of the session's transaction (dropped if the
    (sub)transaction it was left in rolls back, as the write that left it is)."""
    left: list[tuple[SessionTransaction | None, Settle, Any]] = session.info.setdefault(_KEY, [])
    left.append((session.get_nested_transaction() or session.get_transaction(), settle, item))


def take(session: Session) -> Pending:
    """What the session left, taken from it (to run, or to hand to its group)."""
    pending: Pending = {}
    for _, settle, item in session.info.pop(_KEY, []):
        pending.setdefault(settle, []).append(item)
    return pending


def join(into: Pending, pending: Pending) -> None:
    """Add what a writer left to what its group leaves, after what the earlier writers left."""
    for settle, items in pending.items():
        into.setdefault(settle, []).extend(items)


def run(conn: Connection, pending: Pending) -> None:
    for settle, items in pending.items():
        settle(conn, items)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    """A session committed outside the units of work (a script's own session) still does
    what its writes left; a unit of work has taken it already."""
    pending = take(session)
    if pending:
        run(session.connection(), pending)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    """What was left in a (sub)transaction that rolled back goes with it."""
    left = session.info.get(_KEY)
    if left:
        left[:] = [entry for entry in left if not _within(entry[0], previous)]


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False
