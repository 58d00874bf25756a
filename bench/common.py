"""Shared pieces for benchmarks: throwaway databases on each engine, machine facts,
timing, and RESULTS.md sections."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from coop.auth.policy import CLI_ACTOR, Actor, Role
from coop.cli import upgrade_database
from coop.db import Database
from coop.errors import NotFound
from coop.settings import AuthSettings, DatabaseSettings, LedgerSettings, PrivacySettings, Settings

PG_ADMIN = os.environ.get("COOP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def fresh_database(engine: str, head_interval: float = 60.0) -> Iterator[Database]:
    """A migrated, empty database on ``engine`` ("sqlite" or "postgresql"), dropped after."""
    with tempfile.TemporaryDirectory(prefix="coop-bench-") as tmp:
        if engine == "sqlite":
            url = f"sqlite:///{tmp}/bench.db"
            name = None
        else:
            name = f"coop_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{name}"')
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        upgrade_database(url)
        settings = Settings(
            database=DatabaseSettings(url=url),
            auth=AuthSettings(secret_file=Path(tmp) / "jwt"),
            ledger=LedgerSettings(signing_key_file=Path(tmp) / "key.pem", head_interval_seconds=head_interval),
            privacy=PrivacySettings(pseudonym_key_file=Path(tmp) / "pseudonym-key"),
        )
        db = Database(settings)
        try:
            yield db
        finally:
            db.dispose()
            if name:
                with psycopg.connect(PG_ADMIN, autocommit=True) as c:
                    c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Timer:
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Timer]:
    t = Timer()
    start = time.perf_counter()
    yield t
    t.seconds = time.perf_counter() - start


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        pg = subprocess.run(["psql", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        pg = "psql not found"
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; {pg}"
    )


def board_pair(db: Database) -> tuple[Actor, Actor]:
    """Two board users (made on first use): committing needs one who asks and one who approves."""
    from coop.approvals import service as approvals
    from coop.auth.service import create_account
    from coop.types import utcnow

    emails = ("chair@bench.example", "treasurer@bench.example")
    with db.unit_of_work() as s:
        for email in emails:
            try:
                approvals.board_user(s, email)
            except NotFound:
                create_account(s, CLI_ACTOR, db.settings.auth, email, "bench-password", Role.board, None, now=utcnow())
    with db.unit_of_work(write=False) as s:
        asker, approver = (approvals.board_user(s, email) for email in emails)
    return asker, approver


def ask_commit(db: Database, distribution_id: int, now: datetime) -> tuple[Actor, int]:
    """The first step of a commit (one board user asks): the second board user and the request's id."""
    from coop.approvals import service as approvals

    asker, approver = board_pair(db)
    with db.unit_of_work() as s:
        request = approvals.ask_commit(s, asker, distribution_id, now=now)
    assert request.id is not None
    return approver, request.id


def approve(db: Database, approver: Actor, request_id: int, now: datetime) -> None:
    """The second step: another board user approves, which commits."""
    from coop.approvals import service as approvals

    with db.unit_of_work() as s:
        approvals.approve(s, approver, db.settings, request_id, now=now)


def research_permit(number: str, now: datetime, purpose: Any = None) -> Any:
    """A year's data permit for academic research (or ``purpose``) on EHR data, as the
    benchmarks register it."""
    from datetime import timedelta

    from coop.permits import service as permits
    from coop.vocabulary.terms import Category, Purpose, UserType

    return permits.NewPermit(
        number,
        "Bench University",
        UserType.academic,
        (purpose or Purpose.research,),
        (Category.ehr,),
        (),
        "",
        ("SPE",),
        now,
        now,
        now + timedelta(days=365),
        0,
        0,
        None,
    )


def research_application(ref: str) -> Any:
    """An application for academic research on EHR data, as the benchmarks consult on it."""
    from coop.hdab import service as hdab
    from coop.vocabulary.terms import Category, Purpose, UserType

    return hdab.Application(
        ref, "Bench University", UserType.academic, (Purpose.research,), (Category.ehr,), 36, 0, True, True, False, "-"
    )
