"""Engines: how the cooperative's connections plan their statements, and what a read sees."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from coop.db import Database
from ledger import log
from tests.conftest import POSTGRESQL_ONLY


@POSTGRESQL_ONLY
def test_every_connection_plans_each_run_of_a_statement_for_the_rows_there_are(database: Database) -> None:
    """psycopg prepares a statement it runs often, and PostgreSQL may then settle on one generic
    plan for it, costed while the table was small, for as long as the pooled connection lives:
    an import of 100,000 members, batch after batch, fell to a full scan of the member table
    per batch from about 20,000 on (minutes instead of seconds). Writers and readers alike
    plan every run."""
    for write in (True, False):
        with database.unit_of_work(write=write) as s:
            assert s.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"


def test_a_read_unit_of_work_sees_one_moment(database: Database) -> None:
    """Everything a read reads is of one moment, on both engines: a commit made meanwhile
    shows in the next read, not halfway through this one (a count and the rows it counts, a
    report's figures, the profiles' watermark and their counts)."""
    count = text("SELECT count(*) FROM ledger_event")
    with database.unit_of_work(write=False) as s:
        before = s.execute(count).scalar_one()
        with database.unit_of_work() as w:
            log.append(w, "test.event", "cli", "test:1", {})
        assert s.execute(count).scalar_one() == before
    with database.unit_of_work(write=False) as s:
        assert s.execute(count).scalar_one() == before + 1
    with database.read_engine.connect() as conn:  # the engine's other users (the mail worker) read as before
        assert conn.get_isolation_level() == ("READ COMMITTED" if database.dialect == "postgresql" else "SERIALIZABLE")


@POSTGRESQL_ONLY
def test_a_read_unit_of_work_cannot_write(database: Database) -> None:
    """A write slipped into a read fails at once, every time (REPEATABLE READ would let it
    through until it met a concurrent write to the same row)."""
    with pytest.raises(DBAPIError, match="read-only transaction"), database.unit_of_work(write=False) as s:
        log.append(s, "test.event", "cli", "test:1", {})
        s.flush()
    with database.unit_of_work(write=False) as s:
        assert s.execute(text("SELECT count(*) FROM ledger_event")).scalar_one() == 0
