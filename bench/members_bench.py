"""Admitting 100,000 members from the membership administration's CSV file, as
`coop members import` does: every row checked, each member with a ledger event, first
choices and an invitation (with its message queued), in batches of 500 per transaction."""

from __future__ import annotations

import os
import time
from typing import Any

from sqlalchemy import text

from bench.common import fresh_database
from coop.auth.policy import CLI_ACTOR
from coop.db import Database
from coop.members import admission
from coop.types import utcnow

MEMBERS = 100_000


def csv_file(n: int) -> bytes:
    rows = (f"Lid {i:06d} van Bench,lid{i}@bench.example.nl,{'en' if i % 10 == 0 else 'nl'},LA-{i}\n" for i in range(n))
    return ("name,email,language,reference\n" + "".join(rows)).encode()


def _bare_rows(db: Database, n: int) -> float:
    """The floor: the same number of member-shaped rows, four per member (a member, a choice
    version, an invitation, an event), inserted with the driver's batched path in one
    transaction, nothing computed."""
    with db.unit_of_work() as s:
        s.execute(
            text("CREATE TABLE bench_bare (id INTEGER PRIMARY KEY, a VARCHAR(320), b VARCHAR(200), c VARCHAR(64))")
        )
    rows = [{"id": i, "a": f"lid{i}@bench.example.nl", "b": f"Lid {i}", "c": "x" * 64} for i in range(4 * n)]
    start = time.perf_counter()
    with db.unit_of_work() as s:
        s.execute(text("INSERT INTO bench_bare (id, a, b, c) VALUES (:id, :a, :b, :c)"), rows)
    return time.perf_counter() - start


def run(engine: str, n: int = MEMBERS) -> dict[str, Any]:
    data = csv_file(n)
    load = round(os.getloadavg()[0], 2)
    with fresh_database(engine) as db:
        start = time.perf_counter()
        report = admission.run(db, CLI_ACTOR, data, utcnow())
        seconds = time.perf_counter() - start
        assert len(report.admitted) == n and not report.refused, report.refused[:3]
        start = time.perf_counter()
        again = admission.run(db, CLI_ACTOR, data, utcnow())
        rerun = time.perf_counter() - start
        assert not again.admitted and again.already_members == n
        bare = _bare_rows(db, n)
    figures = {
        "members": n,
        "load_average": load,
        "import_seconds": round(seconds, 1),
        "members_per_s": round(n / seconds),
        "rerun_seconds": round(rerun, 1),
        "bare_rows_seconds": round(bare, 1),
    }
    print(f"{engine}: {figures}")
    return figures
