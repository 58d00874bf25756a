"""One PostgreSQL test database per worker, emptied between tests instead of made anew.

``CREATE DATABASE ... TEMPLATE`` and ``DROP DATABASE`` cost a second or more each on a busy
machine (they copy and remove files and wait for them to reach the disk), which was a fifth
of the suite's time. Emptying the few dozen small tables of a test takes a few
milliseconds. What a test leaves behind is checked before the database is used again: the
schema's fingerprint (tables, columns, constraints, indexes, triggers and whether they are
enabled, the functions behind them, the migrations' version, whether the database accepts
connections) must equal the template's, or the database is dropped and the next test gets a
fresh copy. So a test that disables a guard to tamper with a row, or changes the schema in
any way, never leaks into the next one.

Emptying runs with ``session_replication_role = replica``, which is how an administrator
passes the record's own guards (they refuse DELETE and TRUNCATE); identities restart at 1,
as in a fresh copy. Every so often the tables are truncated rather than deleted from, so
dead rows do not pile up on a server without autovacuum."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import psycopg

SCHEMA_QUERIES = (
    "SELECT c.relname, t.tgname, t.tgenabled, p.proname, md5(p.prosrc) FROM pg_trigger t"
    " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid"
    " WHERE NOT t.tgisinternal ORDER BY 1, 2",
    "SELECT p.proname, md5(p.prosrc) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
    " WHERE n.nspname = 'public' ORDER BY 1, 2",
    "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns"
    " WHERE table_schema = 'public' ORDER BY 1, 2",
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
    "SELECT d.datallowconn, s.setconfig FROM pg_database d"
    " LEFT JOIN pg_db_role_setting s ON s.setdatabase = d.oid WHERE d.datname = current_database()",
    "SELECT version_num FROM alembic_version ORDER BY 1",
)
TRUNCATE_EVERY = 25


def fingerprint(conn: psycopg.Connection) -> str:
    digest = hashlib.sha256()
    for query in SCHEMA_QUERIES:
        digest.update(repr(conn.execute(query).fetchall()).encode())
    return digest.hexdigest()


class RecycledDatabase:
    """The worker's PostgreSQL test database: :meth:`take` gives its name, empty and migrated;
    :meth:`give_back` empties it for the next test, or drops it when the test changed more
    than rows."""

    def __init__(self, template: str, name: str, admin: Callable[[], psycopg.Connection], url: Callable[[str], str]):
        self.template, self.name, self._admin, self._url = template, name, admin, url
        self._exists = False
        self._uses = 0
        self._expected: str | None = None
        with psycopg.connect(url(template), autocommit=True) as conn:
            self._tables = [
                r[0]
                for r in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                )
            ]
            self._sequences = [
                r[0] for r in conn.execute("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
            ]
            filled = [
                t for t in self._tables if conn.execute(f'SELECT EXISTS (SELECT 1 FROM "{t}")').fetchone() == (True,)
            ]
        assert not filled, f"the template holds rows in {filled}: emptying would lose them"

    def take(self) -> str:
        if not self._exists:
            with self._admin() as conn:
                conn.execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.template}"')
                conn.execute(f'ALTER DATABASE "{self.name}" SET synchronous_commit = off')
            self._exists = True
            if self._expected is None:
                with psycopg.connect(self._url(self.name), autocommit=True) as conn:
                    self._expected = fingerprint(conn)
        return self.name

    def give_back(self) -> None:
        try:
            self._empty()
        except (_Changed, psycopg.Error):  # changed, or left unreachable: made again for the next test
            self.drop()

    def _empty(self) -> None:
        with psycopg.connect(self._url(self.name), autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if fingerprint(conn) != self._expected:
                raise _Changed
            self._uses += 1
            with conn.transaction():
                conn.execute("SET LOCAL session_replication_role = replica")
                if self._uses % TRUNCATE_EVERY == 0:
                    conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in self._tables))
                else:
                    for table in self._tables:
                        conn.execute(f'DELETE FROM "{table}"')
                for sequence in self._sequences:
                    conn.execute(f'ALTER SEQUENCE "{sequence}" RESTART')

    def drop(self) -> None:
        if self._exists:
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self._exists = False


class _Changed(Exception):
    """The test changed the schema or the database's settings: it is made again from the template."""
