"""Queueing the monthly data-use digest for a million members: the mail worker's scheduled
pass, as `coop worker` makes it, over a cooperative whose members are in the groups of two
new permits (one with a new result)."""

from __future__ import annotations

import os
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.progress import Progress
from sqlalchemy import func, select, text

from bench.choices_bench import MEMBERS, seed
from bench.common import fresh_database, research_permit
from coop.auth.policy import CLI_ACTOR, Actor, Role
from coop.db import Database
from coop.mail import schedule
from coop.mail.models import MailKind, OutboxMessage
from coop.permits import digest, manifests, usage
from coop.permits import service as permits
from coop.types import utcnow
from coop.vocabulary.terms import Purpose

HDAB = Actor("key", 1, Role.hdab, org="HDAB")


def _permit(db: Database, number: str, purpose: Purpose) -> int:
    now = utcnow()
    new = research_permit(number, now, purpose)
    with db.unit_of_work() as s:
        permit, _ = permits.register(s, HDAB, new, now)
        manifests.create(s, CLI_ACTOR, permit, db.settings, now)
        assert permit.id is not None
        return permit.id


def _bare_insert_select(db: Database) -> float:
    """The floor: one INSERT ... SELECT of every member's id, email and language into a plain
    table of the same shape as the outbox's columns that vary, in one transaction."""
    with db.unit_of_work() as s:
        s.execute(
            text(
                "CREATE TABLE bench_bare (id INTEGER PRIMARY KEY, member_id INTEGER, recipient VARCHAR(320), "
                "language VARCHAR(2), context TEXT)"
            )
        )
    start = time.perf_counter()
    with db.unit_of_work() as s:
        s.execute(
            text(
                "INSERT INTO bench_bare (id, member_id, recipient, language, context) "
                "SELECT id, id, email, language, '{\"permits\": [1,2]}' FROM member"
            )
        )
    return time.perf_counter() - start


def run(engine: str, n: int = MEMBERS) -> dict[str, Any]:
    with fresh_database(engine) as db, Progress() as progress:
        seed(db, n, progress)
        first = datetime.now(UTC)
        schedule.run(db, digest.PASSES, first)  # where digests begin
        task = progress.add_task("two permits with their groups, and a result", total=2)
        research = _permit(db, "BENCH-D1", Purpose.research)
        progress.advance(task)
        teaching = _permit(db, "BENCH-D2", Purpose.education)
        progress.advance(task)
        with db.unit_of_work() as s:
            permit = permits.get(s, HDAB, research)
            usage.register_result(
                s,
                HDAB,
                permit,
                usage.ResultKind.publication,
                "Bench results",
                "https://example.org/r",
                utcnow(),
                True,
                utcnow(),
            )
        next_month = (first.replace(day=1) + timedelta(days=32)).replace(day=1, hour=6)
        load = os.getloadavg()[0]
        tracemalloc.start()
        start = time.perf_counter()
        schedule.run(db, digest.PASSES, next_month)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        with db.unit_of_work(write=False) as s:
            queued = s.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == MailKind.data_use_digest.value)  # type: ignore[arg-type]
            ).scalar_one()
        assert queued > 0.8 * n, f"only {queued} digests queued"
        bare = _bare_insert_select(db)
        del teaching
    figures = {
        "members": n,
        "digests_queued": int(queued),
        "load": round(load, 2),
        "queue_seconds": round(seconds, 1),
        "digests_per_s": round(queued / seconds),
        "peak_python_mib": round(peak / 2**20, 1),
        "bare_insert_select_seconds": round(bare, 1),
    }
    print(f"digest [{engine}]: {figures}")
    return figures
