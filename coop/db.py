"""Engines, sessions and the one commit point.

**One writer at a time, from the first statement.** Every write transaction takes the
writers' lock before it reads anything: on SQLite ``BEGIN IMMEDIATE`` (WAL mode,
``synchronous=FULL``, foreign keys on); on PostgreSQL (psycopg 3) a transaction-scoped
advisory lock as its first statement, the same lock the ledger of record appends under.
No other lock is ever taken before it, so writers cannot deadlock each other, and every
check a writer makes (a balance, an idempotency key, a unique value, a proxy chain) sees
everything written before it and stays true until it commits. Readers take no lock.
A writer waits for the lock at most ``busy_timeout_ms`` (SQLite's busy timeout,
PostgreSQL's ``lock_timeout``). Both engines get their schema from Alembic only.

**Group commit on PostgreSQL** (``database.group_commit``, on by default): the writers of
one process take turns, first come first served, inside one shared write transaction
that holds the lock, each unit of work in a savepoint of it, and commit together
(:mod:`coop.write_groups`). Each writer still sees everything written before it, its own
failure rolls back its own work only, and its unit of work returns only after the COMMIT
that made its work durable. Other processes wait for the lock, group by group. With it
off, and always on SQLite, every unit of work is a transaction of its own.

:meth:`Database.unit_of_work` is the commit point for requests and commands: services
only flush; the unit of work seals the ledger of record (signing a tree head when due)
and commits, or rolls everything back. :func:`trouble` sorts database failures that are
not the caller's fault: a deadlock or serialisation failure is worth running the whole
transaction again; a lost connection or a lock not granted in time (or no writer's turn
in time) means "unavailable, try again later" (the API answers 503 with ``Retry-After``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

import psycopg
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlmodel import Session, SQLModel

import coop.models  # noqa: F401  (registers every table with the metadata)
from coop.combining import Combiner, Interrupted
from coop.settings import Mode, Settings
from coop.write_groups import GroupPolicy, WriteGroups
from ledger import log
from ledger.signing import Signer, load_private_key


def metadata() -> MetaData:
    """All tables, for Alembic."""
    return SQLModel.metadata


def _sqlite_engine(url: str, busy_timeout_ms: int, begin: str, echo: bool) -> Engine:
    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let the "begin" hook below issue BEGIN itself
        cur = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",
            "foreign_keys=ON",
            "cache_size=-65536",  # 64 MiB of page cache: bulk work (manifests, distributions) stays in memory
            f"busy_timeout={int(busy_timeout_ms)}",
        ):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


def _postgresql_engine(url: str, busy_timeout_ms: int | None, echo: bool, pool_size: int) -> Engine:
    # pool_pre_ping: a connection the server dropped (restart, failover) is replaced at
    # checkout instead of failing the request that drew it.
    engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # psycopg prepares a statement run five times, and PostgreSQL may then keep one plan
        # for it, made for the table sizes of that moment and never revisited while the
        # connection lives (only ANALYZE invalidates it, and autovacuum may be off or behind).
        # A pooled connection that met the member table nearly empty kept scanning all of it
        # for every batch of an import: quadratic, minutes instead of seconds. Plan each run.
        dbapi_conn.execute("SET plan_cache_mode = force_custom_plan")
        dbapi_conn.commit()

    if busy_timeout_ms is not None:

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            log.take_write_lock(conn, busy_timeout_ms)

    return engine


def make_engines(url: str, busy_timeout_ms: int = 10_000, echo: bool = False) -> tuple[Engine, Engine]:
    """(write engine, read engine). Every transaction of the write engine holds the
    writers' lock from its first statement."""
    if url.startswith("sqlite"):
        return (
            _sqlite_engine(url, busy_timeout_ms, "BEGIN IMMEDIATE", echo),
            _sqlite_engine(url, busy_timeout_ms, "BEGIN", echo),
        )
    # Writers take turns, so a few connections serve them; readers run side by side.
    return _postgresql_engine(url, busy_timeout_ms, echo, 5), _postgresql_engine(url, None, echo, 10)


class Trouble(StrEnum):
    """Why a transaction failed through no fault of the request."""

    retry = "retry"
    """A deadlock or serialisation failure: nothing was written; run it again."""
    unavailable = "unavailable"
    """The database cannot be reached, or the writers' lock was not granted in time."""


_RETRY_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected


def trouble(exc: BaseException) -> Trouble | None:
    """The kind of transient database trouble ``exc`` is, or None for anything else."""
    if isinstance(exc, sa_exc.TimeoutError | Interrupted):  # no pooled connection came free in time; a round cut short
        return Trouble.unavailable
    if not isinstance(exc, sa_exc.DBAPIError):
        return None
    original = exc.orig
    if isinstance(original, psycopg.Error):
        if original.sqlstate in _RETRY_SQLSTATES:
            return Trouble.retry
        if exc.connection_invalidated or isinstance(original, psycopg.OperationalError):
            return Trouble.unavailable  # lost or refused connection, lock_timeout, shutdown
        return None
    if isinstance(original, sqlite3.OperationalError):
        text = str(original).lower()
        if "locked" in text or "busy" in text or "unable to open" in text or "disk i/o" in text:
            return Trouble.unavailable
    return None


class Database:
    """The cooperative's database: engines, the ledger signer, and units of work."""

    def __init__(self, settings: Settings) -> None:
        settings.ensure_keys()
        self.settings = settings
        self.write_engine, self.read_engine = make_engines(
            settings.database.url, settings.database.busy_timeout_ms, settings.database.echo
        )
        self.snapshot_engine = self.read_engine
        """What a read unit of work reads through: on PostgreSQL the read engine in REPEATABLE
        READ, so that all its statements see one moment (as a read transaction on SQLite does):
        a page, a report or a count never mixes the states before and after a commit. Read
        only, too: a write slipped into a read fails at once, every time, not now and then
        when it meets a concurrent one."""
        if self.read_engine.dialect.name == "postgresql":
            self.snapshot_engine = self.read_engine.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        self.signer = Signer(load_private_key(settings.ledger.signing_key_file))
        if settings.mode is Mode.production:
            from coop import pdfsigning

            pdfsigning.load(settings)  # a wrong passphrase or key stops the start, not a report later
        self.ledger_cache = log.LedgerCache()
        self.unsigned = False
        """Whether this object's last commit that appended events left them without a signed head."""
        self.groups: WriteGroups | None = None
        if settings.database.group_commit and self.dialect == "postgresql":
            db = settings.database
            policy = GroupPolicy(db.busy_timeout_ms, db.group_max_writers, db.group_max_age_ms)
            self.groups = WriteGroups(
                self.write_engine,
                self.ledger_cache,
                self.signer,
                settings.ledger.head_interval_seconds,
                policy,
                self._group_committed,
            )
        self._combiners: dict[str, Combiner[Any, Any]] = {}
        self._combining = threading.Lock()

    def combiner(
        self,
        kind: str,
        run: Callable[[Session, Sequence[Any]], Sequence[Any]],
        subject: Callable[[Any], Hashable],
    ) -> Combiner[Any, Any]:
        """This process's writers' requests of ``kind``, done in batches (:mod:`coop.combining`)
        of at most ``database.group_max_writers``; made at first use."""
        with self._combining:
            found = self._combiners.get(kind)
            if found is None:
                database = self.settings.database
                found = Combiner(
                    self.unit_of_work, run, subject, database.group_max_writers, database.group_gather_ms / 1000
                )
                self._combiners[kind] = found
            return found

    def _group_committed(self, appended: bool, signed: bool) -> None:
        if appended:
            self.unsigned = not signed

    @property
    def dialect(self) -> str:
        return self.write_engine.dialect.name

    @contextmanager
    def unit_of_work(self, write: bool = True) -> Iterator[Session]:
        """A session whose work commits on normal exit and rolls back on any exception."""
        if write and self.groups is not None:
            with self.groups.unit_of_work() as session:
                yield session
            return
        engine = self.write_engine if write else self.snapshot_engine
        session = Session(engine, expire_on_commit=False, autoflush=True)
        log.use_cache(session, self.ledger_cache)
        if write:
            log.lock_held(session)  # the write engine's "begin" hook takes it
        try:
            yield session
            if write:
                session.flush()
                appended = log.pending_root(session) is not None
                head = log.seal(session, self.signer, self.settings.ledger.head_interval_seconds)
                session.commit()
                log.committed(session)
                if appended:
                    self.unsigned = head is None
            # A read unit of work just closes: the pool rolls the connection back, and the
            # objects it loaded stay readable (a rollback here would expire them).
        except BaseException:
            session.rollback()
            raise
        finally:
            log.forget(session)
            session.close()

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()
