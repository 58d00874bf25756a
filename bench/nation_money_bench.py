"""Issue 18, targets 3 and 4: the yearly distribution (draft, then commit by two board users)
and the annual report over ``BENCH_MEMBERS`` members (18,000,000) and ``BENCH_PERMITS``
permits (500) on PostgreSQL, each beside its floors measured in the same run; then the next
year's distribution, over members whose accounts the first one opened.

Seeding: members, first choices (5% donate their dividend) and proxies by COPY, as
``bench.nation_bench.seed`` does. The permits are registered and their payments and the
year's expenses booked through the product's services (a few thousand small units of
work); each permit's manifest and member set (2% to 60% of the members, drawn at random)
go straight into the tables, without the pseudonymised entries (the distribution reads
the member sets only); so do the extractions, accesses and results the report lists.

BENCH_MEMBERS=1000000 BENCH_PERMITS=500 .venv/bin/python bench/run.py nation-money
"""

from __future__ import annotations

import os
import random
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from rich.progress import Progress
from sqlalchemy import text

from bench import nation_bench
from bench.common import approve, ask_commit, fresh_database, timed
from bench.distribution_bench import AFTER, YEAR_END, YEAR_START, bench_permit, paying_permit, year_of_expenses
from bench.nation_results import NATION
from bench.reports_bench import _floor as report_floor
from bench.reports_bench import _usage_and_results
from coop.auth.policy import CLI_ACTOR
from coop.db import Database
from coop.mail import schedule
from coop.money import distributions, dividend_mail
from coop.money import plan as money_plan
from coop.money import service as money
from coop.reporting import service as reporting
from ledger import bulk
from reports.annual import render

PERMITS = 500


def permits_with_money(db: Database, n: int, count: int, progress: Progress) -> int:
    """``count`` permits, each with one manifest of 2% to 60% of the members (its member set
    written straight into the tables), one to three payments, and the year's expenses."""
    rng = random.Random(200)
    picks = np.random.default_rng(200)
    task = progress.add_task(f"{count} permits with member sets and payments", total=count)
    pairs = 0
    for i in range(count):
        new = bench_permit(i, rng)
        chosen = np.zeros(n + 1, dtype=bool)  # bit m for member m, as member_sets encodes
        chosen[1:] = picks.random(n, dtype=np.float32) < rng.uniform(0.02, 0.60)
        size = int(np.count_nonzero(chosen))
        pairs += size
        paying_permit(db, i, new, rng, np.packbits(chosen).tobytes(), size)
        progress.advance(task)
    year_of_expenses(db)
    return pairs


def floors(db: Database, rows: int) -> dict[str, float]:
    """One row per member COPYed into a plain table shaped like a member's share, with and
    then without its primary key (the least a draft writes); then a bare scan of them."""
    with db.unit_of_work() as s:
        s.execute(text("CREATE TABLE bench_floor_share (member_id INTEGER, distribution_id INTEGER, cents BIGINT)"))
        s.execute(
            text(
                "CREATE TABLE bench_floor_share_key (member_id INTEGER, distribution_id INTEGER, cents BIGINT, "
                "PRIMARY KEY (distribution_id, member_id))"
            )
        )
    figures = {}
    for table in ("bench_floor_share", "bench_floor_share_key"):
        with db.unit_of_work() as s, timed() as t:
            bulk.insert_rows(
                s,
                table,
                ("member_id", "distribution_id", "cents"),
                ("int4", "int4", "int8"),
                ((i, 1, 1234) for i in range(1, rows + 1)),
            )
        figures[f"floor_copy_{table.removeprefix('bench_floor_')}_seconds"] = round(t.seconds, 2)
    with db.unit_of_work(write=False) as s, timed() as t:
        s.execute(text("SELECT sum(cents) FROM bench_floor_share")).scalar_one()
    figures["floor_scan_seconds"] = round(t.seconds, 2)
    return figures


def distribution(
    db: Database, start: date = YEAR_START, end: date = YEAR_END, after: datetime = AFTER
) -> dict[str, Any]:
    with db.unit_of_work() as s, timed() as gathered:
        inputs, _ = distributions.gather(s, start, end)
    with timed() as planned:
        result = money_plan.plan(inputs)
    with db.unit_of_work() as s, timed() as drafted:
        draft_id = distributions.draft(s, CLI_ACTOR, start, end, now=after).id or 0
    with timed() as asked:
        approver, request_id = ask_commit(db, draft_id, after)  # one board user asks (checks the draft)
    with timed() as committed:
        approve(db, approver, request_id, after)  # a second board user approves: the commit
    with timed() as told:  # afterwards, the mail worker's schedule writes the members' messages
        schedule.run(db, dividend_mail.PASSES, after)
    with db.unit_of_work(write=False) as s:
        messages = s.execute(
            text("SELECT messages FROM mail_run WHERE kind = 'dividend' ORDER BY id DESC LIMIT 1")
        ).scalar_one()
    total = drafted.seconds + asked.seconds + committed.seconds
    return {
        "members_with_a_share": int(result.member_ids.size),
        "gather_seconds": round(gathered.seconds, 2),
        "plan_seconds": round(planned.seconds, 2),
        "draft_seconds": round(drafted.seconds, 2),
        "ask_seconds": round(asked.seconds, 2),
        "commit_seconds": round(committed.seconds, 2),
        "total_seconds": round(total, 2),
        "messages_seconds": round(told.seconds, 2),
        "messages": int(messages),
    }


NEXT_START, NEXT_END = date(2027, 1, 1), date(2027, 12, 31)
NEXT_AFTER = datetime(2028, 1, 15, tzinfo=UTC)


def next_year(db: Database) -> dict[str, Any]:
    """The year after: each permit pays once more and the year's expenses are booked (through
    the services), then the next distribution, over members whose accounts are open already and
    a log and books that hold the first year."""
    rng = random.Random(2027)
    with db.unit_of_work() as s:
        ids = s.execute(text("SELECT id FROM permit ORDER BY id")).scalars().all()
        for i, permit_id in enumerate(ids):
            money.payment(
                s,
                CLI_ACTOR,
                f"next-{i}",
                permit_id,
                date(2027, rng.randint(1, 12), 1),
                rng.randint(10_000, 5_000_000_00),
                "fee",
                now=NEXT_AFTER,
            )
        for month in range(1, 13):
            money.expense(
                s, CLI_ACTOR, f"ops-next-{month}", date(2027, month, 28), 2_500_000, "operations", now=NEXT_AFTER
            )
    with db.write_engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    return distribution(db, NEXT_START, NEXT_END, NEXT_AFTER)


def annual_report(db: Database) -> dict[str, Any]:
    """The annual report's figures and PDF, median of three, beside the bare reads."""
    _usage_and_results(db)
    runs = []
    for _ in range(3):
        with db.unit_of_work(write=False) as s, timed() as gathered:
            figures = reporting.annual(s, db.settings, 2026, None, AFTER)
        with timed() as drawn:
            pdf = render(figures, "nl")
        runs.append((gathered.seconds + drawn.seconds, gathered.seconds, drawn.seconds))
    total, gather_s, render_s = sorted(runs)[1]
    return {
        "figures_seconds": round(gather_s, 2),
        "render_seconds": round(render_s, 2),
        "total_seconds": round(total, 2),
        "pdf_bytes": len(pdf),
        "floor_bare_reads_seconds": round(report_floor(db), 2),
    }


def run(n: int, count: int = PERMITS) -> dict[str, Any]:
    figures: dict[str, Any] = {"members": n, "permits": count, "load_at_start": round(os.getloadavg()[0], 2)}
    with fresh_database("postgresql") as db, Progress() as progress:
        figures["seed"] = nation_bench.seed(db, n, progress, donors=0.05)
        with timed() as t:
            figures["member_permit_pairs"] = permits_with_money(db, n, count, progress)
        figures["seed"]["permits_seconds"] = round(t.seconds, 1)
        with db.write_engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        figures["load_before_distribution"] = round(os.getloadavg()[0], 2)
        figures["distribution"] = distribution(db)
        print("distribution", figures["distribution"], flush=True)
        figures["distribution"].update(floors(db, n))
        figures["load_before_report"] = round(os.getloadavg()[0], 2)
        figures["annual_report"] = annual_report(db)
        print("annual report", figures["annual_report"], flush=True)
        figures["load_before_next_year"] = round(os.getloadavg()[0], 2)
        figures["next_year"] = next_year(db)
        print("the next year's distribution", figures["next_year"], flush=True)
    millions = n / 1e6
    d, r = figures["distribution"], figures["annual_report"]
    figures["seconds_per_million_members"] = {
        "distribution": round(d["total_seconds"] / millions, 2),
        "floor_copy_share_key": round(d["floor_copy_share_key_seconds"] / millions, 2),
        "annual_report": round(r["total_seconds"] / millions, 2),
        "floor_bare_reads": round(r["floor_bare_reads_seconds"] / millions, 2),
    }
    print("nation money", figures, flush=True)
    return figures


if __name__ == "__main__":
    run(int(os.environ.get("BENCH_MEMBERS", NATION)), int(os.environ.get("BENCH_PERMITS", PERMITS)))
