"""Scheduled passes: messages that no single change causes, written by the mail worker.

A data-use digest gathers what happened since the last one; a vote's reminder is due 48
hours before it closes. Nothing commits at those moments, so the worker makes a pass over
the schedule before each delivery run: each pass (a :data:`MailPass`, written by the domain
whose state it tells about) looks whether it is due and, if so, writes its messages.

**Once.** A pass first records itself as a :class:`~coop.mail.models.MailRun` under a key
naming what it covers (:func:`begin`). A second worker making the same pass at the same
moment finds the key taken and writes nothing; if it gets there first, the other one does.
The run and its messages commit together, so a pass that fails midway leaves nothing and
is made again next time.

**No writers' lock.** Passes read the cooperative's state and write only mail tables. On
PostgreSQL they run beside the writers (whose lock is not taken) and bound what they read
by the ledger of record's newest event: events are committed in the order of their
sequence numbers, so everything up to that number is visible and nothing of it is missed.
On SQLite a pass is a write transaction like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Engine, desc, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from coop.db import Database
from coop.mail.models import MailRun
from coop.settings import Settings

logger = logging.getLogger(__name__)

MailPass = Callable[[Session, Settings, datetime], None]
"""A scheduled pass: given a session in a transaction of its own, the settings and the
moment, write the messages that are due (if any)."""


def engine(db: Database) -> Engine:
    """Where mail work is done: on PostgreSQL the engine whose transactions do not take the
    writers' lock (mail tables are the worker's alone); on SQLite the writers' engine."""
    return db.write_engine if db.dialect == "sqlite" else db.read_engine


def latest(session: Session, kind: str) -> MailRun | None:
    """The newest run of this kind of pass."""
    return session.execute(
        select(MailRun).where(col(MailRun.kind) == kind).order_by(desc(col(MailRun.id))).limit(1)
    ).scalar_one_or_none()


def done(session: Session, kind: str, key: str) -> bool:
    """Whether the pass ``(kind, key)`` has been made."""
    found = session.execute(select(col(MailRun.id)).where(col(MailRun.kind) == kind, col(MailRun.key) == key)).first()
    return found is not None


def begin(session: Session, kind: str, key: str, through_seq: int | None, now: datetime) -> MailRun | None:
    """Record that this worker makes the pass ``(kind, key)``; None when another has made it
    (or is making it: then this waits until that one ends). Set ``messages`` on the run once
    they are written."""
    values = {"kind": kind, "key": key, "through_seq": through_seq, "messages": 0, "created_at": now}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(MailRun)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["kind", "key"])
        .returning(col(MailRun.id))
    )
    new_id = session.execute(stmt).scalar_one_or_none()
    if new_id is None:
        return None
    return session.get(MailRun, new_id)


def run(db: Database, passes: Sequence[MailPass], now: datetime) -> None:
    """Make every pass that is due, each in a transaction of its own; one that fails is
    logged and made again next time, and does not keep the others from theirs."""
    for due in passes:
        try:
            with Session(engine(db), expire_on_commit=False) as session, session.begin():
                due(session, db.settings, now)
        except Exception:
            logger.warning("a scheduled mail pass failed; it is tried again next time", exc_info=True)
