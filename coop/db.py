"""Engines, sessions and the one commit point.

SQLite runs in WAL mode with ``synchronous=FULL``, foreign keys on and a busy timeout;
write transactions start with ``BEGIN IMMEDIATE`` so writers queue for the lock at the
start instead of failing half-way. PostgreSQL runs through psycopg 3. Both get their
schema from Alembic only.

:meth:`Database.unit_of_work` is the commit point for requests and commands: services
only flush; the unit of work seals the ledger of record (signing a tree head when due)
and commits, or rolls everything back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlmodel import Session, SQLModel

import coop.models  # noqa: F401  (registers every table with the metadata)
from coop.settings import Settings
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


def make_engines(url: str, busy_timeout_ms: int = 10_000, echo: bool = False) -> tuple[Engine, Engine]:
    """(write engine, read engine); the same engine twice except on SQLite."""
    if url.startswith("sqlite"):
        return (
            _sqlite_engine(url, busy_timeout_ms, "BEGIN IMMEDIATE", echo),
            _sqlite_engine(url, busy_timeout_ms, "BEGIN", echo),
        )
    engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)
    return engine, engine


class Database:
    """The cooperative's database: engines, the ledger signer, and units of work."""

    def __init__(self, settings: Settings) -> None:
        settings.ensure_keys()
        self.settings = settings
        self.write_engine, self.read_engine = make_engines(
            settings.database.url, settings.database.busy_timeout_ms, settings.database.echo
        )
        self.signer = Signer(load_private_key(settings.ledger.signing_key_file))
        self.ledger_cache = log.LedgerCache()

    @property
    def dialect(self) -> str:
        return self.write_engine.dialect.name

    @contextmanager
    def unit_of_work(self, write: bool = True) -> Iterator[Session]:
        """A session whose work commits on normal exit and rolls back on any exception."""
        engine = self.write_engine if write else self.read_engine
        session = Session(engine, expire_on_commit=False, autoflush=True)
        log.use_cache(session, self.ledger_cache)
        try:
            yield session
            if write:
                session.flush()
                log.seal(session, self.signer, self.settings.ledger.head_interval_seconds)
                session.commit()
                log.committed(session)
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
