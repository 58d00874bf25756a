"""Target 5 of issue 18: a crowd of writers changing choices, through the service layer and
through HTTP, each write acknowledged only after its commit. Both print their rate and
latencies; ``bench.nation_bench.appends`` puts them beside a bare one-row INSERT+COMMIT.

Through HTTP the app runs under uvicorn in a process of its own, as a server does (its own
interpreter, pool and group commit); the two cores are shared with the 64 clients (httpx, one
connection each, threads of this process) that load it. Before 2026-11-29 it ran in a thread
of the clients' process, whose interpreter lock the clients shared."""

from __future__ import annotations

import multiprocessing
import random
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select
from sqlmodel import col

from coop.app import create_app
from coop.auth.models import UserAccount
from coop.auth.policy import CLI_ACTOR, Actor, Role
from coop.auth.secrets import issue_token
from coop.auth.service import create_account, hash_password
from coop.choices import encoding
from coop.choices import service as choices
from coop.choices.encoding import Preference
from coop.db import Database
from coop.settings import Settings
from coop.types import utcnow
from ledger import log

PAIRS = list(encoding.PAIRS)


def _patch(w: int, k: int) -> choices.ChoicePatch:
    """A change that changes something for a member on the defaults (a no, not a yes: a yes may
    be one the law forbids), and for a member changed just before (the dividend flips): a change
    that changes nothing writes nothing, and would flatter the rate."""
    p, u = PAIRS[(w + k) % len(PAIRS)]
    return choices.ChoicePatch(preferences=((p, u, Preference.deny),), donate_dividend=k % 2 == 0)


def _log_size(db: Database) -> int:
    with db.unit_of_work(write=False) as s:
        return log.tree_size(s)


def _crowd(db: Database, writers: int, changes: int, change: Callable[[int, int], None]) -> dict[str, Any]:
    """``writers`` threads, each making ``changes`` changes one after the other; with the
    events the log gained meanwhile (one a change that changed something)."""
    before = _log_size(db)
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def work(w: int) -> None:
        for k in range(changes):
            start = time.perf_counter()
            try:
                change(w, k)
            except Exception as exc:  # the finding is how many fail, and why
                with lock:
                    failures.append(f"{type(exc).__name__}: {exc}"[:80])
                continue
            with lock:
                latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()
    return {
        "writers": writers,
        "changes": len(latencies),
        "events_appended": _log_size(db) - before,
        "failures": len(failures),
        "failure_kinds": sorted(set(failures)),
        "changes_per_s": round(len(latencies) / wall),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1) if latencies else None,
    }


def service_crowd(db: Database, members: int, writers: int, changes: int, draw: int = 0) -> dict[str, Any]:
    """Each writer a member changing their own choices through the service, as the API does
    (``choices.submit``: the changes waiting meanwhile are done together, each acknowledged
    after its commit); ``draw`` picks another set of members, for runs one after the other on
    the same cooperative. Before 2026-11-29 each change was a unit of work of its own."""
    chosen = [random.Random(draw * writers + w).sample(range(1001, members + 1), changes) for w in range(writers)]

    def change(w: int, k: int) -> None:
        member = chosen[w][k]
        actor = Actor("user", member, Role.member, member_id=member)
        choices.submit(db, choices.Change(actor, member, _patch(w, k), None, utcnow()))

    return _crowd(db, writers, changes, change)


def _logins(db: Database, member_ids: list[int]) -> list[dict[str, str]]:
    """A member login for each member (theirs, or a new one with one password hash for all),
    and its bearer header."""
    secret = db.settings.auth.secret_file.read_bytes().strip()
    shared = hash_password(db.settings.auth, "crowd-password-1")
    headers = []
    with db.unit_of_work() as s:
        for m in member_ids:
            user = s.execute(select(UserAccount).where(col(UserAccount.member_id) == m)).scalar_one_or_none()
            if user is None:
                user = create_account(
                    s, CLI_ACTOR, db.settings.auth, f"crowd{m}@bench.nl", "", Role.member, m, shared, now=utcnow()
                )
            token, _ = issue_token(
                secret, f"user:{user.id}", Role.member.value, 120, user.token_generation, now=utcnow()
            )
            headers.append({"Authorization": f"Bearer {token}"})
    return headers


def _serve(settings: Settings, port: int) -> None:
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")


def _started(port: int, server: BaseProcess) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.is_alive():
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def http_crowd(db: Database, members: int, clients: int, changes: int) -> dict[str, Any]:
    """Each client a member changing their own choices with PATCH, against uvicorn."""
    member_ids = random.Random(99).sample(range(1001, members + 1), clients)
    headers = _logins(db, member_ids)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(db.settings, port), daemon=True)
    server.start()
    _started(port, server)
    http = [httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) for _ in range(clients)]

    def change(w: int, k: int) -> None:
        patch = _patch(w, k)
        body = {
            "preferences": [
                {"purpose": p.value, "user_type": u.value, "decision": c.value} for p, u, c in patch.preferences
            ],
            "donate_dividend": patch.donate_dividend,
        }
        answer = http[w].patch(f"/api/v1/members/{member_ids[w]}/choices", json=body, headers=headers[w])
        if answer.status_code != 200:
            raise RuntimeError(f"{answer.status_code}")

    try:
        return _crowd(db, clients, changes, change)
    finally:
        for c in http:
            c.close()
        server.terminate()
        server.join(timeout=30)
