"""The delivery worker killed with SIGKILL while a message is in flight, then started again:
every message arrives, and only the one in flight may arrive twice. Also ``coop worker --once``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from coop.db import Database
from coop.mail.models import OutboxMessage
from coop.settings import Settings
from tests.factories.mail import SENDER, SmtpServer, enqueue, statuses

N = 20


def _env(settings: Settings, smtp: SmtpServer, **more: str) -> dict[str, str]:
    return {
        **os.environ,
        "COOP_DATABASE_URL": settings.database.url,
        "COOP_AUTH_SECRET_FILE": str(settings.auth.secret_file),
        "COOP_LEDGER_SIGNING_KEY_FILE": str(settings.ledger.signing_key_file),
        "COOP_PRIVACY_PSEUDONYM_KEY_FILE": str(settings.privacy.pseudonym_key_file),
        "COOP_MAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "COOP_MAIL_FROM": SENDER,
        "COOP_MAIL_LEASE_SECONDS": "1",
        "COOP_MAIL_POLL_SECONDS": "0.1",
        **more,
    }


def _worker(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-c", "from coop.cli import app; app()", "worker", *args]
    return subprocess.Popen(cmd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _wait_until(done: object, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(done) and done():
            return
        assert proc.poll() is None, "the worker stopped by itself"
        time.sleep(0.05)
    raise TimeoutError("the worker did not get there")


def test_a_worker_killed_while_sending_loses_nothing_and_repeats_at_most_that_one(
    database: Database, settings: Settings, smtp: SmtpServer, tmp_path: Path
) -> None:
    enqueue(database, N)
    with database.unit_of_work(write=False) as s:
        expected = {f"<{m}@coop-test.nl>" for m in s.execute(select(OutboxMessage.message_id)).scalars()}
    env = _env(settings, smtp)
    smtp.inbox.hold_at = 5  # the server keeps back its answer to the fifth message
    first = _worker(env, tmp_path / "worker.log")
    try:
        _wait_until(smtp.inbox.held.is_set, first)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    smtp.inbox.release.set()
    assert statuses(database).count("sent") == 4

    again = _worker(env, tmp_path / "worker.log")
    try:
        _wait_until(lambda: statuses(database) == ["sent"] * N, again)
    finally:
        again.terminate()
        again.wait(timeout=30)
    received = Counter(smtp.inbox.message_ids())
    assert set(received) == expected, "every message arrived"
    assert sum(received.values()) <= N + 1 and all(n <= 2 for n in received.values()), "at most one repeat"


def test_worker_once_delivers_what_is_due_and_exits(
    database: Database, settings: Settings, smtp: SmtpServer, tmp_path: Path
) -> None:
    enqueue(database, 3)
    cmd = [sys.executable, "-c", "from coop.cli import app; app()", "worker", "--once"]
    done = subprocess.run(cmd, env=_env(settings, smtp), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sent 3" in done.stdout
    assert len(smtp.inbox.messages) == 3
