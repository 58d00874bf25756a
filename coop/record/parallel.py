"""The big tables' rows tallied in other processes while the log streams by.

Reading a million rows and a million events takes a core each; :func:`alongside` forks
helper processes, one for each core beside the one the log's reader needs, that read the
tables with a row per member (``at_once``) while this process reads the log, each helper
its share of the tables one after another on a connection of its own, and hand back each
table's :class:`~coop.record.reconcile.Tally` and the rules it found broken. Checks of
derived tables (the choice profiles' recount) are shared out the same way. (A process for
every table at once made as many database server processes compete with the log's reader,
which the operating system shares a core between alike: the log, the longer work, took
longer.)

Both sides must see the same record. On PostgreSQL the processes import this transaction's
snapshot (``pg_export_snapshot``). On SQLite, and on PostgreSQL under READ COMMITTED, each
process reads a snapshot of its own, so each reports how many events it saw: every change
to the record appends an event in the same transaction, so snapshots holding the same
events hold the same record. When they differ (the log grew meanwhile) or a process fails,
the rows are tallied again here, on this transaction.

Streaming the log is the longer work, so the helpers run at a lower priority: they take what
the log's reader leaves.

Forking needs a database others can open (not SQLite in memory) and an operating system
that forks; elsewhere the rows are tallied here, after the log.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import Any

from sqlalchemy import Connection

from coop.db import make_engines
from coop.record.reconcile import Reconciliation, Tally, tally_rows
from coop.record.rows import Table
from ledger.verify import Disagreement, Report, read_alone


@dataclass
class _Tallied:
    """What a process hands back: the events its snapshot held, and its table's tally."""

    events: int
    tallies: dict[str, Tally]
    disagreements: list[Disagreement]


def _can_fork(conn: Connection) -> bool:
    database = conn.engine.url.database
    in_memory = conn.dialect.name == "sqlite" and database in (None, "", ":memory:")
    return "fork" in multiprocessing.get_all_start_methods() and not in_memory


Check = Callable[[Connection], list[str]]
"""A check of derived tables against the record: what disagrees (nothing: [])."""


@dataclass
class _Checked:
    """What a checking process hands back: the events its snapshot held, and the problems."""

    events: int
    problems: list[str]


class Derived:
    """The problems the checks of derived tables found, from their processes or, when those
    saw another snapshot or failed, checked here."""

    def __init__(self, conn: Connection, checks: Sequence[Check], readers: Sequence[Pipe | None]) -> None:
        self._conn, self._checks, self._readers = conn, checks, readers

    def problems(self, report: Report) -> list[str]:
        found = []
        for check, reader in zip(self._checks, self._readers, strict=True):
            result = _receive(reader) if reader is not None else None
            if isinstance(result, _Checked) and result.events == report.events:
                found.extend(result.problems)
            else:
                found.extend(check(self._conn))
        return found


@contextmanager
def alongside(reconciliation: Reconciliation, conn: Connection, checks: Sequence[Check] = ()) -> Iterator[Derived]:
    """Tally ``reconciliation``'s big tables, and run ``checks``, in forked processes until
    the block ends; what the checks found is asked of the :class:`Derived` it yields."""
    big = [table for table in reconciliation.tables if table.at_once]
    if not (big or checks) or not _can_fork(conn):
        yield Derived(conn, checks, [None] * len(checks))
        return
    snapshot = None
    if conn.dialect.name == "postgresql" and conn.get_isolation_level() in ("REPEATABLE READ", "SERIALIZABLE"):
        snapshot = str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())
    url = conn.engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("fork")
    jobs: list[Job] = [("tally", table) for table in big] + [("check", check) for check in checks]
    made: dict[int, Pipe] = {}  # the reading end of each job's pipe
    processes: list[Any] = []
    try:
        helpers = _helpers(len(jobs))
        for first in range(helpers):  # each helper its share of the jobs, one after another
            mine = []
            for at in range(first, len(jobs), helpers):
                made[at], writer = context.Pipe(duplex=False)
                mine.append((jobs[at], writer))
            process = context.Process(target=_work, args=(url, snapshot, mine), daemon=True)
            process.start()
            processes.append(process)
            for _, writer in mine:  # the helper's alone (the next are forked without them)
                writer.close()
        readers = [made[at] for at in range(len(jobs))]
        tallying = readers[: len(big)]

        def collect(tables: Sequence[Table], report: Report) -> dict[str, Tally] | None:
            results = [_receive(reader) for reader in tallying]
            if any(not isinstance(r, _Tallied) or r.events != report.events for r in results):
                return None  # another snapshot, or a process that failed: tally here
            tallies: dict[str, Tally] = {}
            for result in results:
                assert isinstance(result, _Tallied)
                tallies.update(result.tallies)
                for d in result.disagreements:
                    report.disagree(d.table, d.row, d.seq, d.message)
            return tallies

        if big:
            reconciliation.rows = collect
        yield Derived(conn, checks, readers[len(big) :])
    finally:
        reconciliation.rows = None
        for reader in made.values():
            reader.close()
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()


def _receive(reader: Pipe) -> _Tallied | _Checked | None:
    try:
        result = reader.recv()
    except (EOFError, OSError):
        return None
    return result if isinstance(result, _Tallied | _Checked) else None


@contextmanager
def _snapshot_connection(url: str, snapshot: str | None) -> Iterator[Connection]:
    """In a forked process: a connection of its own, in the parent's snapshot when it has one."""
    _, engine = make_engines(url)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            if snapshot is not None:
                conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
            # both cores are busy with the log and the other tables: a query's helpers would only queue
            conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        read_alone(conn)  # each query is read to its end before the next
        yield conn


def _events(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT COALESCE(max(seq), 0) FROM ledger_event").scalar_one())


Job = tuple[str, Any]
"""A table to tally (``("tally", table)``) or a check of derived tables to run (``("check", check)``)."""


def _helpers(jobs: int) -> int:
    """How many processes work beside the log's reader: one for each core it leaves, each
    doing its share of the jobs one after another. Each has a database server process too,
    which the operating system cannot tell to give way: one each for every table at once
    left the log's reader a fraction of its core."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 2
    return max(1, min(jobs, cores - 1))


def _work(url: str, snapshot: str | None, jobs: list[tuple[Job, Pipe]]) -> None:
    """In a forked process: a connection of its own, and its jobs' results sent back, each
    as it is done. A job that fails sends why instead (the parent then does it itself)."""
    gc.freeze()  # never collect what the parent process holds (its connections are not ours)
    os.nice(10)  # the log is the longer work: its reader keeps a core when the tallies would take it
    try:
        with _snapshot_connection(url, snapshot) as conn:
            events = _events(conn)
            for (kind, work), writer in jobs:
                try:
                    writer.send(_done(conn, events, kind, work))
                except Exception as exc:  # a failed query ends the transaction: the next jobs fail too
                    writer.send(f"{type(exc).__name__}: {exc}")
                writer.close()
    except Exception as exc:  # no connection: the parent does every job itself
        for _, writer in jobs:
            if not writer.closed:
                writer.send(f"{type(exc).__name__}: {exc}")
    finally:
        for _, writer in jobs:
            writer.close()
        os._exit(0)


def _done(conn: Connection, events: int, kind: str, work: Any) -> _Tallied | _Checked:
    if kind == "check":
        return _Checked(events, work(conn))
    report = Report()
    return _Tallied(events, {work.name: tally_rows(work, conn, report)}, report.disagreements)
