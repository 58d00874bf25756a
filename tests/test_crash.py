"""Kill -9 during a stream of writes: nothing acknowledged is lost, nothing is half-written,
and the ledger of record still verifies."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from coop.auth import service as auth_service
from coop.auth.policy import CLI_ACTOR
from coop.db import Database
from coop.members.models import Member
from coop.settings import Settings
from coop.types import utcnow
from ledger import log
from ledger.verify import verify
from tests import factories as f


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(settings: Settings, port: int, log_file: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "COOP_DATABASE_URL": settings.database.url,
        "COOP_AUTH_SECRET_FILE": str(settings.auth.secret_file),
        "COOP_LEDGER_SIGNING_KEY_FILE": str(settings.ledger.signing_key_file),
        "COOP_PRIVACY_PSEUDONYM_KEY_FILE": str(settings.privacy.pseudonym_key_file),
        "COOP_LEDGER_HEAD_INTERVAL_SECONDS": "0",
        "COOP_AUTH_ARGON2_MEMORY_KIB": "19456",
    }
    cmd = [sys.executable, "-m", "uvicorn", "coop.asgi:app", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(cmd, env=env, stdout=log_file.open("wb"), stderr=subprocess.STDOUT)


def _wait_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError("server did not start")


@pytest.mark.slow
def test_sigkill_loses_nothing_acknowledged(database: Database, tmp_path: Path) -> None:
    with database.unit_of_work() as s:
        auth_service.bootstrap_board(s, CLI_ACTOR, database.settings.auth, f.BOARD_EMAIL, f.PASSWORD, now=utcnow())
    database.dispose()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _serve(database.settings, port, tmp_path / "server.log")
    acknowledged: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()
    try:
        _wait_up(base, proc)
        token = httpx.post(f"{base}/api/v1/auth/token", data={"username": f.BOARD_EMAIL, "password": f.PASSWORD}).json()
        headers = f.bearer(token["access_token"])

        def writer(w: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
                for i in range(10_000):
                    if stop.is_set():
                        return
                    body = {"name": f"Crash {w}-{i}", "email": f"crash{w}-{i}@coop-test.nl"}
                    try:
                        r = http.post("/api/v1/members", json=body)
                    except httpx.HTTPError:
                        return  # the server died under us: this write was never acknowledged
                    assert r.status_code == 201, r.text
                    with lock:
                        acknowledged.append(r.json()["member"]["id"])

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        while True:
            with lock:
                if len(acknowledged) >= 40:
                    break
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    after = Database(database.settings)
    try:
        with after.unit_of_work(write=False) as s:
            members = {m.id: m for m in s.execute(select(Member)).scalars()}
            admitted = {
                int(e.subject.split(":")[1]) for e in log.events_after(s, 0, 100_000) if e.type == "member.admitted"
            }
            invited = {
                int(e.subject.split(":")[1]) for e in log.events_after(s, 0, 100_000) if e.type == "member.invited"
            }
            report = verify(s.connection(), {after.signer.key_id: after.signer.public_key})
        assert set(acknowledged) <= set(members), "an acknowledged admission is missing"
        assert set(members) == admitted == invited, "a member without its events, or an event without its member"
        assert report.ok, report.problems
    finally:
        after.dispose()
