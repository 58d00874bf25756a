"""Cohort counts over a million members: the bulk resolution engine against the floor of
a bare count over the same table."""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.progress import Progress
from sqlalchemy import insert, text

from bench.common import fresh_database
from coop.auth.policy import CLI_ACTOR
from coop.choices import encoding, recount
from coop.choices.encoding import Preference
from coop.choices.models import ChoiceVersion
from coop.db import Database
from coop.decisions import bulk
from coop.decisions.rules import Decision, Terms
from coop.governance import service as governance
from coop.members.models import Member
from coop.proxies.models import ProxyAppointment
from coop.vocabulary.terms import Category, Purpose, UserType, mask

MEMBERS = 1_000_000
STATUTES = Path(__file__).resolve().parent.parent / "coop" / "statutes.example.toml"


def seed(db: Database, n: int, progress: Progress, donors: float = 0.0) -> float:
    """Members and their choices straight into the tables (the ledger is not what is measured);
    a share ``donors`` of them gives their dividend to the solidarity fund. Then their choice
    profiles are counted, as ``coop ledger recount-profiles`` does: how long that took."""
    rng = random.Random(71)
    giving = random.Random(72)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    task = progress.add_task(f"seeding {n:,} members", total=n)
    with db.unit_of_work() as s:
        governance.init_statutes(s, CLI_ACTOR, STATUTES, now=datetime.now(UTC))
    batch = 20_000
    for lo in range(1, n + 1, batch):
        members, versions, appointments = [], [], []
        for i in range(lo, min(lo + batch, n + 1)):
            at = start + timedelta(seconds=i)
            members.append(
                {
                    "id": i,
                    "name": f"Member {i}",
                    "email": f"m{i}@bench.nl",
                    "language": "nl",
                    "status": "active",
                    "admitted_at": at,
                }
            )
            roll = rng.random()
            opt_out, prefs, excluded = False, 0, 0
            if roll < 0.08:
                opt_out = True
            elif roll < 0.28:
                for p, u in rng.sample(encoding.PAIRS, 4):
                    prefs = encoding.put(prefs, p, u, rng.choice([Preference.allow, Preference.deny]))
                if rng.random() < 0.3:
                    excluded = mask([rng.choice(list(Category))])
            elif roll < 0.33 and i > 1000:
                for u in UserType:
                    for p in Purpose:
                        prefs = encoding.put(prefs, p, u, Preference.proxy)
                appointments.append(
                    {
                        "principal_id": i,
                        "proxy_member_id": rng.randint(1, 1000),
                        "purposes_mask": mask(Purpose),
                        "voting": False,
                        "valid_from": at,
                        "appointed_by": "bench",
                    }
                )
            versions.append(
                {
                    "member_id": i,
                    "version": 1,
                    "valid_from": at,
                    "is_member": True,
                    "opt_out": opt_out,
                    "excluded_mask": excluded,
                    "preference_mask": prefs,
                    "donate_dividend": giving.random() < donors,
                    "recorded_by": "bench",
                }
            )
        with db.unit_of_work() as s:
            s.execute(insert(Member), members)
            s.execute(insert(ChoiceVersion), versions)
            if appointments:
                s.execute(insert(ProxyAppointment), appointments)
        progress.advance(task, len(members))
    with db.unit_of_work() as s:  # the rows went in around the services: count their profiles
        began = time.perf_counter()
        recount.rebuild(s.connection())
        seconds = time.perf_counter() - began
    if db.dialect == "postgresql":
        with db.write_engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.write_engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return seconds


def _timed(fn: Any, repeat: int = 7) -> tuple[float, Any]:
    samples, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples), result


def cohort(engine: str, n: int = MEMBERS) -> dict[str, Any]:
    terms = Terms(
        benefit_share_pct=8, open_results=True, processing_in_eu=True, ethics_review=False, duration_months=36
    )
    with fresh_database(engine) as db, Progress() as progress:
        recounted = seed(db, n, progress)
        now = datetime.now(UTC)
        with db.unit_of_work(write=False) as s:
            floor, total = _timed(lambda: s.execute(text("SELECT count(*) FROM choice_version")).scalar_one())
            scan, _ = _timed(
                lambda: s.execute(text("SELECT count(*) FROM choice_version WHERE valid_to IS NULL")).scalar_one()
            )
            one, result = _timed(
                lambda: bulk.cohort_counts(
                    s, [Purpose.research], UserType.commercial, [Category.ehr, Category.claims], now, terms
                )
            )
            three, _ = _timed(
                lambda: bulk.cohort_counts(
                    s,
                    [Purpose.research, Purpose.innovation, Purpose.ai_training],
                    UserType.commercial,
                    [Category.ehr, Category.genetic],
                    now,
                    terms,
                )
            )
    assert total == n and result.total == n
    figures = {
        "members": n,
        "one_purpose_seconds": round(one, 3),
        "three_purposes_seconds": round(three, 3),
        "recount_profiles_seconds": round(recounted, 1),
        "bare_count_seconds": round(floor, 3),
        "filtered_count_seconds": round(scan, 3),
        "eligible": result.eligible,
        "excluded_by_reason": result.by_reason(Decision.deny),
    }
    print(f"cohort [{engine}]: {figures}")
    return figures
