"""Engines: how the cooperative's connections to PostgreSQL plan their statements."""

from __future__ import annotations

from sqlalchemy import text

from coop.db import Database
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
