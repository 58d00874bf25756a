"""Ledger of record benchmarks: append throughput, verification, proof latency."""

from __future__ import annotations

import hashlib
import random
import statistics
import threading
import time
from typing import Any

from rich.progress import Progress
from sqlalchemy import text

from bench.common import fresh_database, timed
from coop.db import Database
from ledger import log
from ledger.events import event_bytes
from ledger.log import NewEvent
from ledger.verify import verify

VERIFY_EVENTS = 1_000_000


def _event(i: int) -> NewEvent:
    return NewEvent("member.admitted", "user:1", f"member:{i}", {"number": f"M-{i:06d}", "language": "nl"})


def _writers(db: Database, writers: int, per_writer: int) -> float:
    """Events per second with ``writers`` threads, one event per committed transaction."""

    def work(w: int) -> None:
        for i in range(per_writer):
            with db.unit_of_work() as s:
                log.append_many(s, [_event(w * per_writer + i)])

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return writers * per_writer / (time.perf_counter() - start)


def _bare_commits(db: Database, n: int) -> float:
    """The floor: one-row INSERT + COMMIT into a plain table, same engine and durability."""
    with db.write_engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, body TEXT)"))
    start = time.perf_counter()
    for i in range(n):
        with db.write_engine.begin() as conn:
            conn.execute(text("INSERT INTO bench_floor (id, body) VALUES (:i, 'x')"), {"i": i})
    return n / (time.perf_counter() - start)


def append(engine: str) -> dict[str, Any]:
    with fresh_database(engine) as db:
        single = _writers(db, 1, 1500)
        eight = _writers(db, 8, 250)
        floor = _bare_commits(db, 1500)
        with db.unit_of_work(write=False) as s:
            assert verify(s.connection(), {db.signer.key_id: db.signer.public_key}).ok
    figures = {
        "single_writer_events_per_s": round(single),
        "eight_writers_events_per_s": round(eight),
        "bare_insert_commit_per_s": round(floor),
    }
    print(f"append [{engine}]: {figures}")
    return figures


def seed(db: Database, n: int, progress: Progress) -> None:
    task = progress.add_task(f"seeding {n:,} events", total=n)
    done = 0
    while done < n:
        k = min(20_000, n - done)
        with db.unit_of_work() as s:
            log.append_many(s, [_event(done + i + 1) for i in range(k)])
        done += k
        progress.advance(task, k)


def _raw_hashlib(db: Database) -> float:
    """The limit: SHA-256 over the same canonical bytes, already in memory."""
    with db.unit_of_work(write=False) as s:
        rows = (
            s.connection()
            .exec_driver_sql("SELECT seq, recorded_at, type, actor, subject, payload FROM ledger_event ORDER BY seq")
            .all()
        )
    data = [b"\x00" + event_bytes(*r) for r in rows]
    sha = hashlib.sha256
    start = time.perf_counter()
    for d in data:
        sha(d).digest()
    return len(data) / (time.perf_counter() - start)


def _latencies(fn: Any, n: int) -> dict[str, float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "mean_ms": round(statistics.fmean(samples), 3),
        "p50_ms": round(samples[len(samples) // 2], 3),
        "p99_ms": round(samples[int(len(samples) * 0.99)], 3),
    }


def verify_and_proofs(engine: str, events: int = VERIFY_EVENTS) -> dict[str, Any]:
    rng = random.Random(20261122)
    with fresh_database(engine) as db, Progress() as progress:
        with timed() as seeding:
            seed(db, events, progress)
        with db.unit_of_work(write=False) as s, timed() as t:
            report = verify(s.connection(), {db.signer.key_id: db.signer.public_key})
        assert report.ok and report.events == events, report.problems
        hashlib_rate = _raw_hashlib(db)
        with db.unit_of_work(write=False) as s:
            size = log.tree_size(s)
            inclusion = _latencies(lambda: log.inclusion_proof(s, rng.randint(1, size), size), 500)
            consistency = _latencies(lambda: log.consistency_proof(s, rng.randint(1, size - 1), size), 500)
            lookup = _latencies(
                lambda: (
                    s.connection()
                    .exec_driver_sql(f"SELECT payload FROM ledger_event WHERE seq = {rng.randint(1, size)}")
                    .one()
                ),
                500,
            )
    figures = {
        "events": events,
        "seed_events_per_s": round(events / seeding.seconds),
        "verify_seconds": round(t.seconds, 2),
        "verify_events_per_s": round(events / t.seconds),
        "raw_hashlib_events_per_s": round(hashlib_rate),
        "inclusion_proof": inclusion,
        "consistency_proof": consistency,
        "primary_key_lookup": lookup,
    }
    print(f"verify and proofs [{engine}]: {figures}")
    return figures
