"""A yearly distribution over a million members and 200 permits: draft (gather, plan,
store every member's share) and commit (one closing entry with a posting per member, then
the payouts), through the product's own code on each engine.

Setup writes members, choices and each manifest's member set straight into the tables
(a manifest's pseudonymised entries are not written: the distribution never reads them);
permits, payments and expenses go through the product's services."""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from rich.progress import Progress
from sqlalchemy import func, select, text

from bench.choices_bench import MEMBERS, seed
from bench.common import approve, ask_commit, fresh_database
from coop.auth.policy import CLI_ACTOR, Actor, Role
from coop.db import Database
from coop.money import distributions
from coop.money import plan as money_plan
from coop.money import service as money
from coop.money.models import Distribution
from coop.permits import member_sets
from coop.permits import service as permits
from coop.permits.models import Manifest, ManifestMemberSet
from coop.types import utcnow
from coop.vocabulary.terms import Category, Purpose, UserType
from ledger import books, bulk
from ledger.models import MoneyPosting

PERMITS = 200
HDAB = Actor("key", 1, Role.hdab, org="HDAB")
YEAR_START, YEAR_END = date(2026, 1, 1), date(2026, 12, 31)
AFTER = datetime(2027, 1, 15, tzinfo=UTC)
"""The moment the benchmark books and distributes its year: once the year has ended."""


def permits_with_money(db: Database, n_members: int, progress: Progress) -> int:
    """200 permits, each with one manifest of 2% to 60% of the members, one to three
    payments each, and twelve months of operating expenses."""
    rng = random.Random(200)
    picks = np.random.default_rng(200)
    task = progress.add_task(f"{PERMITS} permits with manifests and payments", total=PERMITS)
    pairs = 0
    for i in range(PERMITS):
        new = bench_permit(i, rng)
        share = rng.uniform(0.02, 0.60)
        chosen = np.flatnonzero(picks.random(n_members) < share) + 1
        pairs += int(chosen.size)
        paying_permit(db, i, new, rng, member_sets.encode(chosen.tolist()), int(chosen.size))
        progress.advance(task)
    year_of_expenses(db)
    return pairs


APPROVED = datetime(2026, 2, 1, tzinfo=UTC)
"""When the benchmarks' permits were approved."""


def bench_permit(i: int, rng: random.Random) -> permits.NewPermit:
    """The ``i``-th permit of the money benchmarks: its user type, purpose and fee drawn from ``rng``."""
    return permits.NewPermit(
        f"BENCH-{i:03}",
        f"Applicant {i}",
        rng.choice(list(UserType)),
        (rng.choice([Purpose.research, Purpose.innovation, Purpose.education]),),
        (Category.ehr,),
        (),
        "",
        ("SPE",),
        APPROVED,
        APPROVED,
        APPROVED + timedelta(days=730),
        0,
        rng.choice([0, 5, 10]),
        None,
    )


def paying_permit(db: Database, i: int, new: permits.NewPermit, rng: random.Random, bits: bytes, size: int) -> None:
    """``new`` registered through the service, one manifest of ``size`` members whose member
    set (``bits``, as :mod:`coop.permits.member_sets` encodes it) goes straight into the
    tables, and one to three payments (amounts and days drawn from ``rng``)."""
    with db.unit_of_work() as s:
        permit, _ = permits.register(s, HDAB, new, utcnow())
        assert permit.id is not None
        manifest = Manifest(
            permit_id=permit.id,
            as_of=APPROVED,
            size=size,
            root_hash=bytes(32),
            created_by="bench",
            created_at=APPROVED + timedelta(days=1),
            ledger_seq=0,
        )
        s.add(manifest)
        s.flush()
        assert manifest.id is not None
        s.add(ManifestMemberSet(manifest_id=manifest.id, bits=bits))
        for k in range(rng.randint(1, 3)):
            money.payment(
                s,
                CLI_ACTOR,
                f"p{i}-{k}",
                permit.id,
                date(2026, rng.randint(2, 12), 1),
                rng.randint(10_000, 5_000_000_00),
                "fee",
                now=AFTER,
            )


def year_of_expenses(db: Database) -> None:
    """Twelve months of operating expenses in 2026, through the service."""
    with db.unit_of_work() as s:
        for month in range(1, 13):
            money.expense(s, CLI_ACTOR, f"ops-{month}", date(2026, month, 28), 2_500_000, "operations", now=AFTER)


def _bare_insert(db: Database, rows: int) -> float:
    """The floor: the same number of posting-shaped rows written into a plain table with the
    driver's fastest path, in one transaction."""
    with db.unit_of_work() as s:
        s.execute(
            text(
                "CREATE TABLE bench_floor (entry_id VARCHAR(80), line INTEGER, account VARCHAR(120), "
                "amount_cents BIGINT, PRIMARY KEY (entry_id, line))"
            )
        )
    with db.unit_of_work() as s:
        start = time.perf_counter()
        bulk.insert_rows(
            s,
            "bench_floor",
            ("entry_id", "line", "account", "amount_cents"),
            ("text", "int4", "text", "int8"),
            (("distribution:1", i, f"liabilities:members:{i}", -1234) for i in range(rows)),
        )
    return time.perf_counter() - start


def run(engine: str, n: int = MEMBERS) -> dict[str, Any]:
    with fresh_database(engine) as db, Progress() as progress:
        seed(db, n, progress, donors=0.05)
        pairs = permits_with_money(db, n, progress)
        with db.unit_of_work() as s:
            start = time.perf_counter()
            inputs, _ = distributions.gather(s, YEAR_START, YEAR_END)
            gather_s = time.perf_counter() - start
            start = time.perf_counter()
            result = money_plan.plan(inputs)
            plan_s = time.perf_counter() - start
        with db.unit_of_work() as s:
            start = time.perf_counter()
            draft = distributions.draft(s, CLI_ACTOR, YEAR_START, YEAR_END, now=AFTER)
            draft_s = time.perf_counter() - start
            draft_id = draft.id
        start = time.perf_counter()
        approver, request_id = ask_commit(db, draft_id or 0, AFTER)  # one board user asks (checks the draft)
        ask_s = time.perf_counter() - start
        start = time.perf_counter()
        approve(db, approver, request_id, AFTER)  # a second board user approves: the commit
        commit_s = time.perf_counter() - start
        with db.unit_of_work(write=False) as s:
            committed = s.get(Distribution, draft_id)
            assert committed is not None and committed.committed_at is not None
            postings = s.execute(select(func.count()).select_from(MoneyPosting)).scalar_one()
            balances = books.balances(s)
        credited = int(result.member_cents[~result.donated].sum())
        debit = sum(c for kind, c in balances.values() if kind in books.DEBIT_NORMAL)
        assert debit == sum(c for kind, c in balances.values() if kind not in books.DEBIT_NORMAL)  # still balanced
        floor_s = _bare_insert(db, int(result.member_ids.size))
    figures = {
        "members": n,
        "permits": PERMITS,
        "member_permit_pairs": pairs,
        "members_with_a_share": int(result.member_ids.size),
        "credited_cents": credited,
        "postings_after": int(postings),
        "gather_seconds": round(gather_s, 2),
        "plan_seconds": round(plan_s, 2),
        "draft_seconds": round(draft_s, 2),
        "ask_seconds": round(ask_s, 2),
        "commit_seconds": round(commit_s, 2),
        "total_seconds": round(draft_s + ask_s + commit_s, 2),
        "bare_insert_seconds": round(floor_s, 2),
    }
    print(engine, figures)
    return figures


if __name__ == "__main__":
    import sys

    for engine in sys.argv[1:] or ("sqlite", "postgresql"):
        run(engine, int(__import__("os").environ.get("BENCH_MEMBERS", MEMBERS)))
