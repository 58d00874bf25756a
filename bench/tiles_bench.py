"""Serving the log as tiles: an auditor fetching and checking a log of a million events over
HTTP (``coop ledger audit``'s work), beside the raw hashing floor, and the checkpoint's and
tiles' latency under crowds of concurrent readers.

The log is seeded on PostgreSQL through the ledger's own append path in batches of 20,000
events per transaction (as the verify benchmark seeds it: real leaf hashes and stored
subtrees, no cooperative tables), a head signed over it, and the app served by uvicorn in a
process of its own (one worker), as ``coop serve`` runs it. The client runs in this process.
``COOP_BENCH_TILES_EVENTS`` sets the log's size (default 1,000,000).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from rich.progress import Progress

from bench.common import fresh_database, timed
from bench.ledger_bench import _event, seed
from coop.db import Database
from ledger import log, merkle
from ledger.audit import audit_tree
from ledger.audit_client import HttpLog, prepare
from ledger.signing import note_verifier_key
from ledger.tiles import ENTRIES, WIDTH, Tile, bundle_entries

ROOT = Path(__file__).resolve().parent.parent
EVENTS = int(os.environ.get("COOP_BENCH_TILES_EVENTS", "1000000"))
READERS = (16, 64)
SECONDS_PER_LOAD = 8.0
GROWTH = max(10, EVENTS // 100)
"""Events appended after the first audit, for the second (incremental) one: 1%."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db_url: str, keys: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "COOP_DATABASE_URL": db_url,
        "COOP_LEDGER_SIGNING_KEY_FILE": str(keys / "key.pem"),
        "COOP_LEDGER_HEAD_INTERVAL_SECONDS": "3600",
        "COOP_AUTH_SECRET_FILE": str(keys / "jwt"),
        "COOP_PRIVACY_PSEUDONYM_KEY_FILE": str(keys / "pseudonym-key"),
        "COOP_PDF_KEY_FILE": str(keys / "pdf-key.pem"),
        "COOP_PDF_CERTIFICATE_FILE": str(keys / "pdf-certificate.pem"),
    }
    command = [sys.executable, "-m", "uvicorn", "coop.asgi:app", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/api/v1/ledger/checkpoint", timeout=5).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError("the app did not start")


def _floor(entries: Sequence[bytes]) -> float:
    """The raw hashing floor: leaf hashes of entry bytes already in memory and the tree's root."""
    sha256 = hashlib.sha256
    with timed() as t:
        merkle.root_by_levels([sha256(b"\x00" + e).digest() for e in entries])
    return t.seconds


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
    }


async def _crowd(url: str, paths: Sequence[str], readers: int) -> dict[str, float]:
    """``readers`` clients, each asking for a random one of ``paths`` as soon as its last answer came."""
    latencies: list[float] = []
    deadline = time.perf_counter() + SECONDS_PER_LOAD
    limits = httpx.Limits(max_connections=readers, max_keepalive_connections=readers)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def reader(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                r = await client.get(rng.choice(paths))
                latencies.append(time.perf_counter() - start)
                assert r.status_code == 200, r.text

        start = time.perf_counter()
        await asyncio.gather(*(reader(i) for i in range(readers)))
        elapsed = time.perf_counter() - start
    return {**_percentiles(latencies), "requests_per_s": round(len(latencies) / elapsed)}


def _load(url: str, size: int) -> dict[str, Any]:
    base = "/api/v1/ledger"
    full = [Tile(0, i, WIDTH).path for i in range(size // WIDTH)]
    bundles = [Tile(ENTRIES, i, WIDTH).path for i in range(size // WIDTH)]
    loads = {"checkpoint": [f"{base}/checkpoint"], "hash_tile": [f"{base}/{p}" for p in full]}
    loads["entry_bundle"] = [f"{base}/{p}" for p in bundles]
    return {
        f"{name}_{readers}": asyncio.run(_crowd(url, paths, readers))
        for name, paths in loads.items()
        for readers in READERS
    }


class _RecordingLog(HttpLog):
    """The log over HTTP, keeping every tile the audit read, so the same checks can run again with no HTTP."""

    def __init__(self, url: str, client: httpx.Client) -> None:
        super().__init__(url, client)
        self.tiles: dict[Tile, bytes] = {}

    def read(self, tiles: Iterable[Tile]) -> Iterator[bytes]:
        wanted = list(tiles)
        for tile, data in zip(wanted, super().read(wanted), strict=True):
            self.tiles[tile] = data
            yield data


def _grow(db: Database, n: int) -> None:
    with db.unit_of_work() as s:
        start = log.tree_size(s)
        log.append_many(s, [_event(start + i + 1) for i in range(n)])
    with db.unit_of_work() as s:
        log.sign_current_head(s, db.signer)


def run(engine: str = "postgresql") -> dict[str, Any]:
    with fresh_database(engine, head_interval=3600) as db, Progress() as progress:
        load = os.getloadavg()[0]
        with timed() as seeding:
            seed(db, EVENTS, progress)
        with db.unit_of_work() as s:
            log.sign_current_head(s, db.signer)
        keys = db.settings.ledger.signing_key_file.parent
        server, url = _serve(db.settings.database.url, keys)
        try:
            key = note_verifier_key(db.settings.ledger.log_name, db.signer.public_key)
            with tempfile.TemporaryDirectory() as state, httpx.Client(timeout=60) as client:
                with timed() as over_http:
                    plan = prepare(url, client, Path(state), key)
                    plan.log = recording = _RecordingLog(url, client)
                    report = plan.run()
                assert report.tree_size == EVENTS
                with timed() as in_memory:
                    audit_tree(plan.checkpoint, lambda tiles: (recording.tiles[t] for t in tiles))
                entries = [e for t, d in recording.tiles.items() if t.level == ENTRIES for e in bundle_entries(d)]
                floor = _floor(entries)
                del entries
                recording.tiles.clear()
                _grow(db, GROWTH)
                with timed() as again:
                    later = prepare(url, client, Path(state), key).run()
                assert later.reused == EVENTS // WIDTH and later.consistent_with == EVENTS
            latency = _load(url, EVENTS)
        finally:
            server.terminate()
            server.wait(timeout=30)
    figures = {
        "events": EVENTS,
        "load_average": round(load, 1),
        "seed_seconds": round(seeding.seconds, 1),
        "audit_seconds": round(over_http.seconds, 2),
        "audit_events_per_s": round(EVENTS / over_http.seconds),
        "tiles_read": report.tiles,
        "checks_alone_events_per_s": round(EVENTS / in_memory.seconds),
        "growth_events": GROWTH,
        "incremental_audit_seconds": round(again.seconds, 2),
        "incremental_tiles_read": later.tiles,
        "raw_hashing_events_per_s": round(EVENTS / floor),
        "latency": latency,
    }
    print(f"tiles [{engine}]: {figures}")
    return figures


def render(r: dict[str, Any]) -> list[str]:
    """The section of bench/RESULTS.md."""
    f = r["figures"]["postgresql"]
    lines = [
        f"## Ledger of record: auditing {f['events']:,} events over HTTP, and serving tiles",
        "",
        f"Ran {r['when']} on {r['machine']}.",
        "",
        "The log seeded on PostgreSQL through the ledger's append path (20,000 events per transaction;",
        "no cooperative tables), the app served by uvicorn in a process of its own (one worker).",
        "`coop ledger audit`'s work (`ledger.audit_client`): the checkpoint fetched and its signature",
        "checked, every entry bundle and hash tile fetched (4 requests in flight), every entry hashed",
        "and parsed as its canonical event, every tile checked against the one above, the root",
        "recomputed. Beside it, the same checks over the same tiles already in memory (no HTTP), and",
        "the peer (the floor): `hashlib.sha256` over the same entry bytes in memory and the tree",
        "built bottom-up, nothing parsed. The machine's load average when the run began is shown: the",
        "machine is shared.",
        "",
        "| events | load | seed (s) | audit over HTTP (s) | audit (events/s) | tiles read "
        "| checks alone (events/s) | peer: raw hashing (events/s) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {f['events']:,} | {f['load_average']} | {f['seed_seconds']} | {f['audit_seconds']} "
        f"| **{f['audit_events_per_s']:,}** | {f['tiles_read']:,} | {f['checks_alone_events_per_s']:,} "
        f"| {f['raw_hashing_events_per_s']:,} |",
        "",
        f"Over HTTP the audit waits on the server, which answered {f['tiles_read'] / f['audit_seconds']:.0f} tiles a",
        f"second (each a read of up to 256 rows); the checks alone ran "
        f"{f['checks_alone_events_per_s'] / f['audit_events_per_s']:.0f} times as fast.",
        "",
        f"Then the log grew by {f['growth_events']:,} events (1%) and was audited again with the state of",
        f"the first audit: {f['incremental_tiles_read']:,} tiles read, the full ones verified before kept,",
        f"every root recomputed from every leaf hash, in **{f['incremental_audit_seconds']} s**.",
        "",
        f"Latency under concurrent readers ({', '.join(map(str, READERS))} asyncio httpx clients in one",
        f"process, each asking again as soon as answered, {SECONDS_PER_LOAD:g} s each): the checkpoint, a",
        "random full level 0 hash tile, a random full entry bundle.",
        "",
        "| resource | readers | p50 (ms) | p99 (ms) | requests/s |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in ("checkpoint", "hash_tile", "entry_bundle"):
        for readers in READERS:
            x = f["latency"][f"{name}_{readers}"]
            lines.append(
                f"| {name.replace('_', ' ')} | {readers} | {x['p50_ms']} | {x['p99_ms']} | {x['requests_per_s']:,} |"
            )
    return [*lines, ""]
