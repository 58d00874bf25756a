"""Where today's code stands at nation scale (issue 18): 18,000,000 members on PostgreSQL
with the same mix as the million-member benchmarks, each path beside its floor.

Seeding goes straight into the tables, as ``bench.choices_bench.seed`` does and with the
same mix drawn from the same random streams, but through binary COPY
(``ledger.bulk.insert_rows``) instead of batched INSERTs: at 18 million members the
INSERTs alone would take most of an hour. Each heavy path runs in a process of its own
(its peak memory is then its own: ``VmHWM``, not ``ru_maxrss``, which a child inherits) and is stopped after
``BENCH_GUARD_MINUTES`` (10): "did not finish" is a finding, not a failure.

BENCH_MEMBERS=100000 .venv/bin/python bench/run.py nation   # a small run to check the code

``BENCH_ONLY`` (comma-separated: ``consultation``, ``manifest``, ``appends``) runs only those
paths after the seeding; such a partial run prints its figures instead of returning them to
``bench/run.py``'s tables. To time the manifest alone at 2 million members, without touching
``bench/results.json``::

    BENCH_MEMBERS=2000000 BENCH_ONLY=manifest .venv/bin/python -c \
        "import os; from bench import nation_bench; nation_bench.run(int(os.environ['BENCH_MEMBERS']))"
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import pickle
import queue
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.progress import Progress
from sqlalchemy import text

from bench import crowd_appends, manifest_apart
from bench.choices_bench import STATUTES
from bench.common import fresh_database, research_application, timed
from bench.nation_results import NATION
from coop.auth.policy import CLI_ACTOR, Actor, Role
from coop.choices import encoding, recount
from coop.choices.encoding import Preference
from coop.db import Database
from coop.governance import service as governance
from coop.hdab import service as hdab
from coop.settings import Settings
from coop.types import utcnow
from coop.vocabulary.terms import Category, Purpose, UserType, mask
from ledger import bulk

ROOT = Path(__file__).resolve().parent.parent
ONLY = {p for p in os.environ.get("BENCH_ONLY", "").split(",") if p}
BATCH = 250_000
GUARD_MINUTES = float(os.environ.get("BENCH_GUARD_MINUTES", "10"))
HDAB = Actor("key", 1, Role.hdab, org="HDAB")
WRITERS = 64
CHANGES_PER_WRITER = 25

MEMBER_COLUMNS = ("id", "name", "email", "language", "status", "admitted_at")
MEMBER_TYPES = ("int4", "text", "text", "text", "text", "timestamptz")
VERSION_COLUMNS = (
    "member_id",
    "version",
    "valid_from",
    "is_member",
    "opt_out",
    "excluded_mask",
    "preference_mask",
    "donate_dividend",
    "recorded_by",
)
VERSION_TYPES = ("int4", "int4", "timestamptz", "bool", "bool", "int4", "int8", "bool", "text")
PROXY_COLUMNS = (
    "principal_id",
    "proxy_member_id",
    "purposes_mask",
    "voting",
    "valid_from",
    "appointed_by",
    "needs_acceptance",
    "accepted_at",
)
PROXY_TYPES = ("int4", "int4", "int4", "bool", "timestamptz", "text", "bool", "timestamptz")
"""The appointments are in force (accepted when made: ``accepted_at`` is their ``valid_from``),
so proxies are followed. ``bench.choices_bench.seed`` inserts through SQLAlchemy, whose
model default (true: waiting for the proxy to accept) leaves its proxies not in force."""


def _batches(n: int, donors: float = 0.0) -> Iterator[tuple[list[tuple[Any, ...]], ...]]:
    """The rows of ``bench.choices_bench.seed``, drawn from the same random streams: 8% opted
    out, 20% with their own choices, 5% behind proxies, the rest following the mandate (one
    difference: the proxies here are in force, see ``PROXY_TYPES``)."""
    rng = random.Random(71)
    giving = random.Random(72)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    everything = mask(Purpose)
    proxied = 0
    for u in UserType:
        for p in Purpose:
            proxied = encoding.put(proxied, p, u, Preference.proxy)
    categories = list(Category)
    for lo in range(1, n + 1, BATCH):
        members, versions, appointments = [], [], []
        for i in range(lo, min(lo + BATCH, n + 1)):
            at = start + timedelta(seconds=i)
            members.append((i, f"Member {i}", f"m{i}@bench.nl", "nl", "active", at))
            roll = rng.random()
            opt_out, prefs, excluded = False, 0, 0
            if roll < 0.08:
                opt_out = True
            elif roll < 0.28:
                for p, u in rng.sample(encoding.PAIRS, 4):
                    prefs = encoding.put(prefs, p, u, rng.choice([Preference.allow, Preference.deny]))
                if rng.random() < 0.3:
                    excluded = mask([rng.choice(categories)])
            elif roll < 0.33 and i > 1000:
                prefs = proxied
                appointments.append((i, rng.randint(1, 1000), everything, False, at, "bench", False, at))
            versions.append((i, 1, at, True, opt_out, excluded, prefs, giving.random() < donors, "bench"))
        yield members, versions, appointments


def seed(db: Database, n: int, progress: Progress, donors: float = 0.0) -> dict[str, float]:
    """``n`` members with their first choices (and proxies) by COPY, then VACUUM ANALYZE
    (``donors``: the share who donate their dividend, as ``bench.choices_bench.seed``'s).
    Beside it the floor: the same choice rows COPYed into a plain table without indexes."""
    with db.unit_of_work() as s:
        governance.init_statutes(s, CLI_ACTOR, STATUTES, now=datetime.now(UTC))
        s.execute(
            text(
                "CREATE TABLE bench_floor_choice (member_id INTEGER, version INTEGER, valid_from TIMESTAMPTZ, "
                "is_member BOOLEAN, opt_out BOOLEAN, excluded_mask INTEGER, preference_mask BIGINT, "
                "donate_dividend BOOLEAN, recorded_by VARCHAR(40))"
            )
        )
    task = progress.add_task(f"seeding {n:,} members by COPY", total=n)
    copy_s = floor_s = generate_s = 0.0
    for members, versions, appointments in _timed_iter(_batches(n, donors), lambda s: _add(s)):
        with db.unit_of_work() as s, timed() as t:
            bulk.insert_rows(s, "member", MEMBER_COLUMNS, MEMBER_TYPES, members)
            bulk.insert_rows(s, "choice_version", VERSION_COLUMNS, VERSION_TYPES, versions)
            bulk.insert_rows(s, "proxy_appointment", PROXY_COLUMNS, PROXY_TYPES, appointments)
        copy_s += t.seconds
        with db.unit_of_work() as s, timed() as t:
            bulk.insert_rows(s, "bench_floor_choice", VERSION_COLUMNS, VERSION_TYPES, versions)
        floor_s += t.seconds
        progress.advance(task, len(members))
    generate_s = _GENERATED[0]
    with timed() as vacuum, db.write_engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    with timed() as profiles:
        counted = recount_profiles(db)
    return {
        "generate_rows_seconds": round(generate_s, 1),
        "copy_into_tables_seconds": round(copy_s, 1),
        "floor_copy_choice_rows_seconds": round(floor_s, 1),
        "vacuum_analyze_seconds": round(vacuum.seconds, 1),
        "recount_profiles_seconds": round(profiles.seconds, 1),
        "recounted_members": counted["members"],
        "recounted_profiles": counted["profiles"],
    }


def recount_profiles(db: Database) -> dict[str, int]:
    """The choice profiles counted from the rows COPYed around the services (as
    ``coop ledger recount-profiles`` does), then analysed; how many members and profiles."""
    with db.unit_of_work() as s:
        members = recount.rebuild(s.connection())
        profiles = s.execute(text("SELECT count(*) FROM choice_profile")).scalar_one()
    with db.write_engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "ANALYZE choice_member_profile, choice_profile, choice_profile_watermark"
        )
    return {"members": members, "profiles": profiles}


_GENERATED = [0.0]


def _add(seconds: float) -> None:
    _GENERATED[0] += seconds


def _timed_iter(it: Iterator[Any], account: Callable[[float], None]) -> Iterator[Any]:
    """``it``, with the time spent producing its items added up by ``account``."""
    while True:
        start = time.perf_counter()
        try:
            item = next(it)
        except StopIteration:
            return
        account(time.perf_counter() - start)
        yield item


def _median(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


APPLICATION = research_application("NATION-1")


def consultation(db: Database) -> dict[str, Any]:
    """Target 1: an HDAB consultation (counts by reason at now), median of 3, beside a bare
    count(*) and a count that must read every row."""
    guard = f"SET LOCAL statement_timeout = '{int(GUARD_MINUTES * 60_000)}ms'"
    with db.unit_of_work(write=False) as s:
        s.execute(text(guard))
        bare, total = _median(lambda: s.execute(text("SELECT count(*) FROM choice_version")).scalar_one(), 3)
        scan, _ = _median(
            lambda: s.execute(text("SELECT count(*) FROM choice_version WHERE valid_to IS NULL")).scalar_one(), 3
        )
    timings = []
    for _ in range(3):
        with db.unit_of_work() as s:
            s.execute(text(guard))
            start = time.perf_counter()
            answer = hdab.consult(s, HDAB, APPLICATION, 10, 3, utcnow())
            timings.append(time.perf_counter() - start)
    return {
        "consultation_seconds": round(statistics.median(timings), 3),
        "consultation_answer": answer.answer,
        "floor_bare_count_seconds": round(bare, 3),
        "floor_filtered_count_seconds": round(scan, 3),
        "rows_counted": total,
    }


def _floor_copy_stream(db: Database, rows: int) -> tuple[float, float]:
    """The floors of a manifest: COPY ``rows`` pseudonym-shaped rows (32 bytes, a member id)
    into a plain table, then stream them back through a server-side cursor."""
    with db.unit_of_work() as s:
        s.execute(text("CREATE TABLE bench_floor_manifest (pseudonym BYTEA, member_id INTEGER)"))
    key = b"k" * 32
    with db.unit_of_work() as s, timed() as copied:
        bulk.insert_rows(
            s,
            "bench_floor_manifest",
            ("pseudonym", "member_id"),
            ("bytea", "int4"),
            ((key[:28] + i.to_bytes(4, "big"), i) for i in range(rows)),
        )
    with db.unit_of_work(write=False) as s, timed() as streamed:
        raw = bulk.raw_connection(s)
        with raw.cursor(name="floor") as cur:
            cur.itersize = 50_000
            cur.execute("SELECT pseudonym FROM bench_floor_manifest")
            count = sum(1 for _ in cur)
    assert count == rows
    return copied.seconds, streamed.seconds


def manifest(db: Database) -> dict[str, Any]:
    """Target 2: the manifest for every eligible member (the same academic EHR scope as
    the consultation), created and streamed in a process of its own that imports only the
    manifest's path (``bench.manifest_apart``), stopped at the guard."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.manifest_apart"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(pickle.dumps(db.settings))
    proc.stdin.close()
    out: queue.Queue[list[Any]] = queue.Queue()
    lines = proc.stdout

    def pump() -> None:
        for line in lines:
            out.put(json.loads(line))

    threading.Thread(target=pump, daemon=True).start()
    started = time.perf_counter()
    figures: dict[str, Any] = {}
    deadline = started + GUARD_MINUTES * 60
    while proc.poll() is None or not out.empty():
        try:
            msg = out.get(timeout=5)
        except queue.Empty:
            if time.perf_counter() > deadline:
                proc.terminate()
                figures["did_not_finish"] = f"stopped after {GUARD_MINUTES:g} min at stage {figures.get('stage')}"
                break
            continue
        if msg[0] == "base":
            figures["base_rss_mib"] = round(msg[1])
        elif msg[0] == "stage":
            figures["stage"] = msg[1]
        elif msg[0] == "create":
            figures.update(manifest_size=msg[1], create_seconds=round(msg[2], 2), create_peak_rss_mib=round(msg[3]))
            figures["stage"] = "streaming"
        else:
            figures.update(stream_rows=msg[1], stream_seconds=round(msg[2], 2), peak_rss_mib=round(msg[3]))
            figures["stream_rows_per_s"] = round(msg[1] / msg[2]) if msg[2] else None
            figures["stage"] = "done"
    proc.wait(30)
    size = figures.get("manifest_size")
    if size:
        copy_s, stream_s = _floor_copy_stream(db, size)
        figures.update(floor_copy_seconds=round(copy_s, 2), floor_stream_rows_per_s=round(size / stream_s))
    return figures


def appends(db: Database, n: int) -> dict[str, Any]:
    """Target 5: 64 writers, each a member changing their choices through the service (one
    unit of work per change, with its ledger event), then 64 HTTP clients doing the same
    against uvicorn, beside a bare one-row INSERT+COMMIT in a loop on one connection. A short
    crowd first warms the process (each pooled connection prepares its statements after a few
    uses; the first rounds start one writer at a time) and is reported apart: the measured
    crowd is a server's steady state."""
    warm = crowd_appends.service_crowd(db, n, WRITERS, CHANGES_PER_WRITER // 5, draw=1)
    service = crowd_appends.service_crowd(db, n, WRITERS, CHANGES_PER_WRITER)
    with db.write_engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_floor_commit (id INTEGER PRIMARY KEY, body TEXT)"))
    bare = 1500
    with timed() as floor:
        for i in range(bare):  # measured as in the earlier runs, so the figures compare
            with db.write_engine.begin() as conn:
                conn.execute(text("INSERT INTO bench_floor_commit (id, body) VALUES (:i, 'x')"), {"i": i})
    floor_rate = bare / floor.seconds
    http = crowd_appends.http_crowd(db, n, WRITERS, CHANGES_PER_WRITER)
    return {
        **service,
        "warm_up": {k: warm[k] for k in ("changes", "changes_per_s", "p50_ms", "p99_ms", "failures")},
        "group_commit": db.groups is not None,
        "floor_bare_insert_commit_per_s": round(floor_rate),
        "ratio_to_floor": round(service["changes_per_s"] / floor_rate, 2),
        "http": {**http, "ratio_to_floor": round(http["changes_per_s"] / floor_rate, 2)},
    }


def raw_hashing(events: int = 1_000_000) -> float:
    """The floor of verifying: SHA-256 over event-sized bytes already in memory, per second."""
    data = [
        b"\x00" + f'{{"seq":{i},"type":"choices.changed","payload":{{"member":{i}}}}}'.encode() for i in range(events)
    ]
    sha = hashlib.sha256
    start = time.perf_counter()
    for d in data:
        sha(d).digest()
    return events / (time.perf_counter() - start)


def run(n: int = NATION) -> dict[str, Any]:
    figures: dict[str, Any] = {"members": n, "load_at_start": round(os.getloadavg()[0], 2)}
    with fresh_database("postgresql") as db, Progress() as progress:
        figures["seed"] = seed(db, n, progress)
        with db.unit_of_work(write=False) as s:
            figures["database_bytes"] = s.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        print("seeded", figures, flush=True)
        figures["load_after_seed"] = round(os.getloadavg()[0], 2)
        if not ONLY or "consultation" in ONLY:
            figures["consultation"] = consultation(db)
            print("consultation", figures["consultation"], flush=True)
        figures["load_before_manifest"] = round(os.getloadavg()[0], 2)
        if not ONLY or "manifest" in ONLY:
            figures["manifest"] = manifest(db)
            print("manifest", figures["manifest"], flush=True)
        figures["load_before_appends"] = round(os.getloadavg()[0], 2)
        if not ONLY or "appends" in ONLY:
            figures["appends"] = appends(db, n)
            print("appends", figures["appends"], flush=True)
    if ONLY:  # a partial run: its figures are printed, not kept beside the whole runs'
        print("nation (partial)", figures, flush=True)
        return figures
    figures["raw_hashing_events_per_s"] = round(raw_hashing())
    per_million = n / 1e6
    c, m, seed_f = figures["consultation"], figures["manifest"], figures["seed"]
    figures["seconds_per_million_members"] = {
        "seed_copy": round(seed_f["copy_into_tables_seconds"] / per_million, 2),
        "floor_copy": round(seed_f["floor_copy_choice_rows_seconds"] / per_million, 2),
        "consultation": round(c["consultation_seconds"] / per_million, 4),
        "floor_filtered_count": round(c["floor_filtered_count_seconds"] / per_million, 4),
        **(
            {"manifest_create": round(m["create_seconds"] / (m["manifest_size"] / 1e6), 2)}
            if "create_seconds" in m
            else {}
        ),
        **(
            {"manifest_stream": round(m["stream_seconds"] / (m["stream_rows"] / 1e6), 2)}
            if "stream_seconds" in m
            else {}
        ),
    }
    print("nation", figures, flush=True)
    return figures


if __name__ == "__main__":
    run(int(os.environ.get("BENCH_MEMBERS", NATION)))


def _verify_once(settings: Settings) -> dict[str, Any]:
    """In a process of its own, as ``coop ledger verify`` runs: one whole verification."""
    from coop.record.verification import snapshot_options, verify_record

    db = Database(settings)
    with db.unit_of_work(write=False) as s, timed() as t:
        conn = s.connection(execution_options=snapshot_options(db.dialect))
        report = verify_record(conn, db.settings, {db.signer.key_id: db.signer.public_key}, now=datetime.now(UTC))
    db.dispose()
    return {
        "seconds": t.seconds,
        "events": report.events,
        "ok": report.ok,
        "problems": [str(p) for p in report.problems[:3]],
        "warnings": [str(w) for w in report.warnings[:3]],
        "peak_rss_mib": round(manifest_apart.own_peak_mib()),  # not ru_maxrss: it carries the parent's over
        # the largest of the processes that tallied the tables, whose pages shared with this
        # one (from the fork) count in both: forked here, this process's own figure is theirs too
        "tally_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }


def verify(events: int) -> dict[str, Any]:
    """Target 6 at the largest log that fits the time: ``bench.ledger_bench``'s cooperative
    of ``events`` events (members, choices, invitations, logins, a vote), verified in a
    process of its own (best of two), with that process's peak memory."""
    from concurrent.futures import ProcessPoolExecutor

    from bench import ledger_bench

    with fresh_database("postgresql") as db, Progress() as progress:
        with timed() as seeding:
            events = ledger_bench.seed_cooperative(db, events, progress)
        with db.write_engine.connect() as conn:
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")
            auto.exec_driver_sql("VACUUM ANALYZE")
            auto.exec_driver_sql("CHECKPOINT")
        load = os.getloadavg()[0]
        runs = []
        for _ in range(2):
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as apart:
                runs.append(apart.submit(_verify_once, db.settings).result())
        with db.unit_of_work(write=False) as s:
            size = s.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        hashing = ledger_bench._raw_hashlib(db)
    best = min(runs, key=lambda r: r["seconds"])
    figures = {
        "events": events,
        "load_average": round(load, 2),
        "seed_seconds": round(seeding.seconds, 1),
        "database_bytes": size,
        "verify_seconds": round(best["seconds"], 2),
        "verify_events_per_s": round(events / best["seconds"]),
        "verify_peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "verify_tally_peak_rss_mib": max(r["tally_peak_rss_mib"] for r in runs),
        "verify_ok": best["ok"],
        "verify_events_seen": best["events"],
        "problems": best["problems"],
        "warnings": best["warnings"],
        "raw_hashlib_events_per_s": round(hashing),
    }
    print("nation verify", figures, flush=True)
    return figures


def verify_sizes(sizes: list[int]) -> dict[str, Any]:
    """``verify`` at each size (smallest first): the largest's figures, with the smaller ones
    beside them, so memory and speed can be seen to grow or not with the log."""
    runs = [verify(n) for n in sorted(sizes)]
    return {**runs[-1], "smaller": runs[:-1]}
