"""Ledger of record benchmarks: append throughput, verification (every event and the rows it made), proof
latency."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import sqlite3
import statistics
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.progress import Progress
from sqlalchemy import insert, text, update
from sqlmodel import col

from bench.common import fresh_database, timed
from coop.auth import service as auth_service
from coop.auth.models import UserAccount
from coop.auth.policy import CLI_ACTOR, Role
from coop.choices import encoding, recount
from coop.choices.encoding import Preference
from coop.choices.models import ChoiceVersion
from coop.db import Database
from coop.governance import queries as governance_queries
from coop.governance import service as governance
from coop.governance.documents import DocumentKind
from coop.governance.models import Proposal, Vote
from coop.members.models import Invitation, Member
from coop.record.verification import snapshot_options, verify_record
from coop.settings import Settings
from coop.vocabulary.terms import Category, from_mask, mask
from ledger import canonical, log
from ledger.events import event_bytes
from ledger.log import NewEvent
from ledger.verify import verify

VERIFY_EVENTS = 1_000_000
STATUTES = Path(__file__).resolve().parent.parent / "coop" / "statutes.example.toml"


def _event(i: int) -> NewEvent:
    return NewEvent("member.admitted", "user:1", f"member:{i}", {"number": f"M-{i:06d}", "language": "nl"})


def _writers(db: Database, writers: int, per_writer: int) -> float:
    """Events per second with ``writers`` threads, one event per committed transaction."""

    def work(w: int) -> None:
        for i in range(per_writer):
            with db.unit_of_work() as s:
                log.append_many(s, [_event(w * per_writer + i)])

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return writers * per_writer / (time.perf_counter() - start)


def _bare_commits(db: Database, n: int) -> float:
    """The floor: one-row INSERT + COMMIT into a plain table, same engine and durability."""
    with db.write_engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, body TEXT)"))
    start = time.perf_counter()
    for i in range(n):
        with db.write_engine.begin() as conn:
            conn.execute(text("INSERT INTO bench_floor (id, body) VALUES (:i, 'x')"), {"i": i})
    return n / (time.perf_counter() - start)


def append(engine: str) -> dict[str, Any]:
    with fresh_database(engine) as db:
        single = _writers(db, 1, 1500)
        eight = _writers(db, 8, 250)
        floor = _bare_commits(db, 1500)
        with db.unit_of_work(write=False) as s:
            assert verify(s.connection(), {db.signer.key_id: db.signer.public_key}).ok
    figures = {
        "single_writer_events_per_s": round(single),
        "eight_writers_events_per_s": round(eight),
        "bare_insert_commit_per_s": round(floor),
    }
    print(f"append [{engine}]: {figures}")
    return figures


def seed(db: Database, n: int, progress: Progress) -> None:
    """``n`` synthetic events and nothing else (the append benchmark's kind of log)."""
    task = progress.add_task(f"seeding {n:,} events", total=n)
    done = 0
    while done < n:
        k = min(20_000, n - done)
        with db.unit_of_work() as s:
            log.append_many(s, [_event(done + i + 1) for i in range(k)])
        done += k
        progress.advance(task, k)


@dataclass
class _Batch:
    members: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    invitations: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)


def _choices(version: int, is_member: bool, opt_out: bool, prefs: int, excluded: int) -> dict[str, Any]:
    """A choices event's payload, as coop.choices.service records it."""
    return {
        "version": version,
        "is_member": is_member,
        "opt_out": opt_out,
        "excluded_categories": [c.value for c in from_mask(Category, excluded)],
        "preferences": [[p.value, u.value, pref.value] for p, u, pref in encoding.explicit(prefs)],
        "donate_dividend": False,
        "acting_proxy_id": None,
        "acting_carer_id": None,
    }


def _member(b: _Batch, rng: random.Random, i: int, at: datetime, voters: list[tuple[int, str]]) -> None:
    """Member ``i`` as the services make one: admitted with choices and an invitation; most
    accept it and log in; some change their choices; a few leave."""
    board, subject = "user:1", f"member:{i}"
    b.members.append(
        {
            "id": i,
            "name": f"Member {i}",
            "email": f"m{i}@bench.nl",
            "language": "nl",
            "status": "active",
            "admitted_at": at,
            "left_at": None,
        }
    )
    b.events.append(NewEvent("member.admitted", board, subject, {"number": f"M-{i:06d}", "language": "nl"}, at))
    versions: list[dict[str, Any]] = [
        {
            "member_id": i,
            "version": 1,
            "valid_from": at,
            "is_member": True,
            "opt_out": False,
            "excluded_mask": 0,
            "preference_mask": 0,
            "donate_dividend": False,
            "recorded_by": board,
        }
    ]
    b.events.append(NewEvent("choices.started", board, subject, _choices(1, True, False, 0, 0), at))
    expires = at + timedelta(hours=72)
    invitation = {"id": i, "member_id": i, "token_hash": f"{i:064x}", "created_at": at, "expires_at": expires}
    b.invitations.append({**invitation, "used_at": None})
    b.events.append(
        NewEvent("member.invited", board, subject, {"invitation_id": i, "expires_at": expires.isoformat()}, at)
    )
    actor = board
    if rng.random() < 0.7:
        joined = at + timedelta(seconds=1)
        b.invitations[-1]["used_at"] = joined
        b.accounts.append(
            {
                "id": i + 1,
                "email": f"m{i}@bench.nl",
                "password_hash": "x",
                "role": "member",
                "member_id": i,
                "created_at": joined,
            }
        )
        payload = {"role": "member", "member_id": i, "invitation_id": i, "carer_id": None}
        b.events.append(NewEvent("account.created", subject, f"user:{i + 1}", payload, joined))
        actor = f"user:{i + 1}"
        if rng.random() < 0.5:
            voters.append((i, actor))
    if rng.random() < 0.3:
        changed = at + timedelta(seconds=2)
        opt_out, prefs, excluded = rng.random() < 0.25, 0, 0
        for p, u in rng.sample(encoding.PAIRS, rng.randint(1, 4)):
            prefs = encoding.put(prefs, p, u, rng.choice([Preference.allow, Preference.deny]))
        if rng.random() < 0.3:
            excluded = mask([rng.choice(list(Category))])
        versions[-1]["valid_to"] = changed
        versions.append(
            {
                **versions[-1],
                "version": 2,
                "valid_from": changed,
                "valid_to": None,
                "opt_out": opt_out,
                "excluded_mask": excluded,
                "preference_mask": prefs,
                "recorded_by": actor,
            }
        )
        b.events.append(
            NewEvent("choices.changed", actor, subject, _choices(2, True, opt_out, prefs, excluded), changed)
        )
    if rng.random() < 0.02:
        left = at + timedelta(seconds=3)
        b.members[-1].update(status="left", left_at=left)
        b.events.append(NewEvent("member.left", board, subject, {}, left))
        last = versions[-1]
        last["valid_to"] = left
        versions.append(
            {
                **last,
                "version": last["version"] + 1,
                "valid_from": left,
                "valid_to": None,
                "is_member": False,
                "recorded_by": board,
            }
        )
        payload = _choices(last["version"] + 1, False, last["opt_out"], last["preference_mask"], last["excluded_mask"])
        b.events.append(NewEvent("choices.membership-ended", board, subject, payload, left))
        if voters and voters[-1][0] == i:
            voters.pop()
    b.versions.extend({"valid_to": None, **v} for v in versions)


def seed_cooperative(db: Database, events: int, progress: Progress) -> int:
    """A cooperative whose log holds about ``events`` events, each with the rows it made, as
    the services make them (written in bulk): members admitted, invited, most logged in,
    some changing their choices, a few leaving, and a proposal put to the vote and closed.
    Returns the number of events."""
    rng = random.Random(2026)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    task = progress.add_task(f"seeding a cooperative of about {events:,} events", total=events)
    with db.unit_of_work() as s:
        governance.init_statutes(s, CLI_ACTOR, STATUTES, now=datetime.now(UTC))
        auth_service.create_account(
            s,
            CLI_ACTOR,
            db.settings.auth,
            "board@bench.nl",
            "",
            Role.board,
            None,
            password_hash="x",
            now=datetime.now(UTC),
        )
        written = log.tree_size(s)
    voters: list[tuple[int, str]] = []
    i = 0
    while written + len(voters) + 2 < events:  # the votes fill the rest
        b = _Batch()
        while len(b.events) < 20_000:
            i += 1
            _member(b, rng, i, start + timedelta(seconds=10 * i), voters)
        with db.unit_of_work() as s:
            s.execute(insert(Member), b.members)
            s.execute(insert(ChoiceVersion), b.versions)
            s.execute(insert(Invitation), b.invitations)
            s.execute(insert(UserAccount), b.accounts)
            log.append_many(s, b.events)
        written += len(b.events)
        progress.advance(task, len(b.events))
    written += _proposal(db, start + timedelta(seconds=10 * i + 60), voters[: max(0, events - written - 2)], i)
    progress.update(task, completed=written)
    return written


def _proposal(db: Database, opens: datetime, voters: list[tuple[int, str]], members: int) -> int:
    """A proposal that most of the electorate ignored: rejected for want of quorum."""
    closes = opens + timedelta(days=14)
    with db.unit_of_work() as s:
        body = governance_queries.require_in_force(
            s, DocumentKind.benefit_policy, datetime.now(UTC)
        ).document.model_dump(mode="json")
        electorate = s.execute(text("SELECT count(*) FROM member WHERE left_at IS NULL")).scalar_one()
        rng = random.Random(71)
        votes = [(m, actor, "yes" if rng.random() < 0.6 else "no") for m, actor in voters]
        yes = sum(1 for v in votes if v[2] == "yes")
        proposal = {
            "id": 1,
            "title": "A larger solidarity fund",
            "kind": "benefit-policy",
            "body": canonical.dumps(body),
            "opens_at": opens,
            "closes_at": closes,
            "quorum_pct": 90,
            "majority_pct": 50,
            "created_by": "user:1",
            "created_at": opens,
        }
        s.execute(insert(Proposal), [proposal])
        opened = {k: proposal[k] for k in ("title", "kind", "quorum_pct", "majority_pct")}
        opened.update(opens_at=opens.isoformat(), closes_at=closes.isoformat(), body=body)
        events = [NewEvent("proposal.opened", "user:1", "proposal:1", opened, opens)]
        rows = []
        for n, (m, actor, vote) in enumerate(votes):
            cast = opens + timedelta(seconds=1 + n)
            rows.append({"proposal_id": 1, "member_id": m, "vote": vote, "cast_at": cast, "cast_by": actor})
            events.append(
                NewEvent(
                    "vote.cast",
                    actor,
                    "proposal:1",
                    {"member_id": m, "vote": vote, "proxy_member_id": None, "proxy_carer_id": None},
                    cast,
                )
            )
        if rows:
            s.execute(insert(Vote), rows)
        closing = {"closed_at": closes, "outcome": "rejected", "electorate": electorate, "yes": yes}
        closing.update(no=len(votes) - yes, abstain=0)
        s.execute(update(Proposal).where(col(Proposal.id) == 1).values(**closing))
        tally = {
            "outcome": "rejected",
            "electorate": electorate,
            "yes": yes,
            "no": len(votes) - yes,
            "abstain": 0,
            "quorum_met": False,
            "adopted_version": None,
        }
        events.append(NewEvent("proposal.closed", "user:1", "proposal:1", tally, closes))
        log.append_many(s, events)
        log.sign_current_head(s, db.signer)
        recount.rebuild(s.connection())  # the choices were written around the services: counted as they count them
        if db.dialect == "postgresql":  # rows written with their ids: the next ones the services add come after
            for table in ("member", "member_invitation", "user_account", "proposal"):
                s.connection().exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
    return len(events)


def _raw_hashlib(db: Database) -> float:
    """The limit: SHA-256 over the same canonical bytes, already in memory, for the log's first
    million events at most (the rate is per event; 18 million held in memory took 21 GiB)."""
    with db.unit_of_work(write=False) as s:
        rows = (
            s.connection()
            .exec_driver_sql(
                "SELECT seq, recorded_at, type, actor, subject, payload FROM ledger_event ORDER BY seq LIMIT 1000000"
            )
            .all()
        )
    data = [b"\x00" + event_bytes(*r) for r in rows]
    sha = hashlib.sha256
    start = time.perf_counter()
    for d in data:
        sha(d).digest()
    return len(data) / (time.perf_counter() - start)


def _latencies(fn: Any, n: int) -> dict[str, float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "mean_ms": round(statistics.fmean(samples), 3),
        "p50_ms": round(samples[len(samples) // 2], 3),
        "p99_ms": round(samples[int(len(samples) * 0.99)], 3),
    }


def _verify_apart(settings: Settings, events: int) -> tuple[float, float]:
    """In a process of its own: the best of three whole verifications, and of three of the
    log alone (without the tables: what reconciling them adds), in seconds."""
    db = Database(settings)
    keys = {db.signer.key_id: db.signer.public_key}
    whole, alone = [], []
    for _ in range(3):  # best of three: the machine may be shared
        with db.unit_of_work(write=False) as s, timed() as t:
            conn = s.connection(execution_options=snapshot_options(db.dialect))
            report = verify_record(conn, db.settings, keys, now=datetime.now(UTC))
        assert report.ok and report.events == events and not report.warnings, report.problems[:5]
        whole.append(t.seconds)
    for _ in range(3):
        with db.unit_of_work(write=False) as s, timed() as t:
            assert verify(s.connection(), keys).ok
        alone.append(t.seconds)
    db.dispose()
    return min(whole), min(alone)


def verify_and_proofs(engine: str, events: int = VERIFY_EVENTS) -> dict[str, Any]:
    rng = random.Random(20261122)
    with fresh_database(engine) as db, Progress() as progress:
        with timed() as seeding:
            events = seed_cooperative(db, events, progress)
        # the seeding's writes reach the disk now, not while verify is timed
        if db.dialect == "postgresql":
            with db.write_engine.connect() as conn:
                auto = conn.execution_options(isolation_level="AUTOCOMMIT")
                auto.exec_driver_sql("VACUUM ANALYZE")
                auto.exec_driver_sql("CHECKPOINT")
        else:
            with closing(sqlite3.connect(str(db.write_engine.url.database))) as plain:
                plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        load = os.getloadavg()[0]
        # `coop ledger verify` runs in a process of its own, as here (not in this one, which
        # holds the seeding's memory and connections)
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as apart:
            verified, log_only = apart.submit(_verify_apart, db.settings, events).result()
        with db.unit_of_work(write=False) as s:
            rows = sum(
                s.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("member", "choice_version", "member_invitation", "user_account", "vote", "proposal")
            )
        hashlib_rate = _raw_hashlib(db)
        with db.unit_of_work(write=False) as s:
            size = log.tree_size(s)
            inclusion = _latencies(lambda: log.inclusion_proof(s, rng.randint(1, size), size), 500)
            consistency = _latencies(lambda: log.consistency_proof(s, rng.randint(1, size - 1), size), 500)
            lookup = _latencies(
                lambda: (
                    s.connection()
                    .exec_driver_sql(f"SELECT payload FROM ledger_event WHERE seq = {rng.randint(1, size)}")
                    .one()
                ),
                500,
            )
    figures = {
        "events": events,
        "rows": rows,
        "load_average": round(load, 2),
        "seed_events_per_s": round(events / seeding.seconds),
        "verify_seconds": round(verified, 2),
        "verify_events_per_s": round(events / verified),
        "log_alone_events_per_s": round(events / log_only),
        "raw_hashlib_events_per_s": round(hashlib_rate),
        "inclusion_proof": inclusion,
        "consistency_proof": consistency,
        "primary_key_lookup": lookup,
    }
    print(f"verify and proofs [{engine}]: {figures}")
    return figures
