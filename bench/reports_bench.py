"""The annual benefit report over a million members and 200 permits: gathering every figure
of the year (members, revenue per permit, user type and purpose, the distribution and a
histogram of a million dividends, grants, the permit register with compliance flags,
results, a million members' choices per purpose and user type, decisions, the integrity
statement) and drawing the PDF.

Setup: the distribution benchmark's cooperative (members, choices, 200 permits with member
sets, payments, expenses), its distribution committed through the product, and for every
permit an extraction (with its manifest check, as the product keeps it), an access and,
for half of them, a result, written straight into the tables."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from rich.progress import Progress
from sqlalchemy import insert, select, text
from sqlmodel import col

from bench.choices_bench import MEMBERS, seed
from bench.common import approve, ask_commit, fresh_database
from bench.distribution_bench import AFTER, YEAR_END, YEAR_START, permits_with_money
from coop.auth.policy import CLI_ACTOR
from coop.money import distributions
from coop.permits.models import Manifest, ManifestCheck, Result, UsageEvent
from coop.reporting import service
from ledger import log
from reports.annual import render


def _usage_and_results(db: Any) -> None:
    at = datetime(2026, 6, 1, tzinfo=UTC)
    with db.unit_of_work() as s:
        manifests = s.execute(select(col(Manifest.id), col(Manifest.permit_id), col(Manifest.size))).all()
        s.execute(
            insert(ManifestCheck), [{"manifest_id": m, "ineligible": 0, "checked_at": at} for m, _, _ in manifests]
        )
        events = []
        for m, permit, size in manifests:
            for kind, manifest, records in (("extraction", m, size), ("access", None, None)):
                events.append(
                    {
                        "permit_id": permit,
                        "kind": kind,
                        "occurred_at": at,
                        "manifest_id": manifest,
                        "records": records,
                        "description": kind,
                        "reported_by": "bench",
                        "reported_at": at,
                    }
                )
        s.execute(insert(UsageEvent), events)
        s.execute(
            insert(Result),
            [
                {
                    "permit_id": permit,
                    "kind": "publication",
                    "title": f"Findings of permit {permit}",
                    "url": f"https://example.org/{permit}",
                    "published_at": at,
                    "open_access": permit % 3 != 0,
                    "registered_by": "bench",
                    "registered_at": at,
                }
                for _, permit, _ in manifests[::2]
            ],
        )
        log.sign_current_head(s, db.signer)


def _floor(db: Any) -> float:
    """The peer: the two million-row reads the report cannot avoid, bare, through the driver."""
    with db.unit_of_work(write=False) as s:
        start = time.perf_counter()
        s.execute(text("SELECT preference_mask FROM choice_version WHERE valid_to IS NULL")).all()
        s.execute(text("SELECT cents FROM distribution_member")).all()
        return time.perf_counter() - start


def run(engine: str, n: int = MEMBERS) -> dict[str, Any]:
    with fresh_database(engine) as db, Progress() as progress:
        seed(db, n, progress, donors=0.05)
        permits_with_money(db, n, progress)
        with db.unit_of_work() as s:
            draft = distributions.draft(s, CLI_ACTOR, YEAR_START, YEAR_END, now=AFTER)
        approver, request_id = ask_commit(db, draft.id or 0, AFTER)
        approve(db, approver, request_id, AFTER)
        _usage_and_results(db)
        timings = []
        for _ in range(3):
            with db.unit_of_work(write=False) as s:
                start = time.perf_counter()
                figures = service.annual(s, db.settings, 2026, None, AFTER)
                gathered = time.perf_counter() - start
            start = time.perf_counter()
            pdf = render(figures, "nl")
            timings.append((gathered + time.perf_counter() - start, gathered, time.perf_counter() - start))
        total, gather_s, render_s = sorted(timings)[1]
        floor_s = _floor(db)
    assert len(figures.permits) == 200 and figures.split.distributions == 1
    result = {
        "members": n,
        "permits": len(figures.permits),
        "pdf_bytes": len(pdf),
        "figures_seconds": round(gather_s, 2),
        "render_seconds": round(render_s, 2),
        "total_seconds": round(total, 2),
        "bare_reads_seconds": round(floor_s, 2),
    }
    print(engine, result)
    return result


if __name__ == "__main__":
    import os
    import sys

    for engine in sys.argv[1:] or ("sqlite", "postgresql"):
        run(engine, int(os.environ.get("BENCH_MEMBERS", MEMBERS)))
