"""An HDAB consultation over a million members, and a cohort manifest for ~900,000
eligible members: computed, stored, and streamed back in batches."""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, datetime
from typing import Any

from rich.progress import Progress

from bench.choices_bench import MEMBERS, seed
from bench.common import fresh_database, research_application, research_permit
from coop.auth.policy import CLI_ACTOR, Actor, Role
from coop.hdab import service as hdab
from coop.permits import manifests
from coop.permits import service as permits
from coop.types import utcnow

HDAB = Actor("key", 1, Role.hdab, org="HDAB")


def run(engine: str, n: int = MEMBERS) -> dict[str, Any]:
    with fresh_database(engine) as db, Progress() as progress:
        seed(db, n, progress)
        application = research_application("BENCH-1")
        timings = []
        for _ in range(5):
            with db.unit_of_work() as s:
                start = time.perf_counter()
                consultation = hdab.consult(s, HDAB, application, 10, 3, utcnow())
                timings.append(time.perf_counter() - start)
        consult_s = sorted(timings)[len(timings) // 2]
        eligible = consultation.answer
        new = research_permit("BENCH-P1", datetime.now(UTC))
        with db.unit_of_work() as s:
            permit, _ = permits.register(s, HDAB, new, utcnow())
        with db.unit_of_work() as s:
            start = time.perf_counter()
            manifest = manifests.create(s, CLI_ACTOR, s.merge(permit), db.settings, utcnow())
            create_s = time.perf_counter() - start
        tracemalloc.start()
        with db.unit_of_work(write=False) as s:
            start = time.perf_counter()
            streamed = sum(len(p.hex()) + 1 for p in manifests.pseudonyms(s, manifest.id or 0))
            stream_s = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    figures = {
        "members": n,
        "consultation_seconds": round(consult_s, 3),
        "consultation_answer": eligible,
        "manifest_size": manifest.size,
        "manifest_create_seconds": round(create_s, 2),
        "manifest_stream_seconds": round(stream_s, 2),
        "manifest_stream_bytes": streamed,
        "manifest_stream_peak_mib": round(peak / 2**20, 1),
    }
    print(f"permits [{engine}]: {figures}")
    return figures
