"""Delivering 5,000 invitations from the outbox to an SMTP server on this machine, as the
delivery worker (:func:`coop.mail.worker.deliver_due`) does, beside a bare ``smtplib`` loop
sending the same messages, already composed, over one connection to the same server.

The server (aiosmtpd) runs in a process of its own on a loopback port: it accepts every
message, keeps only its Message-ID, and counts. On PostgreSQL two workers, in processes of
their own, deliver the same number at once: the server must receive each message once."""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import smtplib
import socket
import time
from datetime import timedelta
from multiprocessing.connection import Connection
from typing import Any

from bench.common import fresh_database
from coop.db import Database
from coop.mail import outbox, unsubscribe
from coop.mail.messages import Letter, compose
from coop.mail.models import MailKind, MailStatus, OutboxMessage
from coop.mail.worker import deliver_due
from coop.settings import MailSettings, Settings
from coop.types import utcnow

MESSAGES = 5_000
SENDER = "Coöperatie <bestuur@bench.example.nl>"
_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class _Counter:
    """aiosmtpd handler: accept, keep the Message-ID, discard the rest."""

    def __init__(self) -> None:
        self.received = 0
        self.ids: set[bytes] = set()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.received += 1
        found = _MESSAGE_ID.search(envelope.content or b"")
        if found:
            self.ids.add(found.group(1))
        return "250 OK"


def _serve(port: int, control: Connection) -> None:
    from aiosmtpd.controller import Controller

    counter = _Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    control.send("ready")
    while (asked := control.recv()) != "stop":
        if asked == "count":
            control.send((counter.received, len(counter.ids)))
        elif asked == "reset":
            counter.received, counter.ids = 0, set()
            control.send("ok")
    controller.stop()


class Sink:
    """The SMTP server in its own process (so it does not share the measured process's core)."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self._control, theirs = mp.Pipe()
        self._process = mp.get_context("fork").Process(target=_serve, args=(self.port, theirs), daemon=True)

    def __enter__(self) -> Sink:
        self._process.start()
        assert self._control.recv() == "ready"
        return self

    def ask(self, what: str) -> Any:
        self._control.send(what)
        return self._control.recv()

    def __exit__(self, *_exc: object) -> None:
        self._control.send("stop")
        self._process.join(timeout=10)


def _mail(port: int) -> MailSettings:
    return MailSettings.model_validate(
        {"url": f"smtp://127.0.0.1:{port}", "sender": SENDER, "portal_url": "https://coop.example.nl"}
    )


def _queue(db: Database, n: int) -> None:
    """``n`` invitations, as an import of ``n`` members writes them (one statement)."""
    until = (utcnow() + timedelta(days=14)).isoformat()
    mails = [
        outbox.Mail(
            to=f"lid{i}@bench.example.nl",
            kind=MailKind.invitation,
            language="en" if i % 10 == 0 else "nl",
            context={"name": f"Lid {i:06d} van Bench", "token": f"{i:064x}", "until": until},
        )
        for i in range(n)
    ]
    with db.unit_of_work() as s:
        outbox.enqueue_many(s, mails, utcnow())


def _composed(db: Database, mail: MailSettings) -> tuple[list[Any], float]:
    """The waiting messages composed as the worker composes them, and how long that took."""
    with db.unit_of_work(write=False) as s:
        rows = list(s.query(OutboxMessage).order_by(OutboxMessage.id))  # type: ignore[arg-type]
    key = unsubscribe.key_from(db.settings.auth.secret_file.read_bytes().strip())
    start = time.perf_counter()
    now = utcnow()
    messages = [
        compose(Letter(r.id, r.message_id, r.kind, r.recipient, r.language, r.context, 1, r.member_id), mail, now, key)
        for r in rows
    ]
    return messages, time.perf_counter() - start


def _bare_smtp(port: int, messages: list[Any]) -> float:
    """The peer: smtplib's send_message over one connection, nothing else."""
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as conn:
        for m in messages:
            conn.send_message(m)
    return time.perf_counter() - start


def _sent(db: Database) -> int:
    with db.unit_of_work(write=False) as s:
        return s.query(OutboxMessage).filter(OutboxMessage.status == MailStatus.sent.value).count()  # type: ignore[arg-type]


def _work(settings: Settings, mail: MailSettings, go: Any, done: Any) -> None:
    db = Database(settings)
    try:
        go.wait()
        done.put(deliver_due(db, mail).sent)
    finally:
        db.dispose()


def _two_workers(db: Database, mail: MailSettings) -> tuple[float, list[int]]:
    """Two worker processes started at the same moment; seconds until both are done."""
    ctx = mp.get_context("fork")
    go, done = ctx.Event(), ctx.Queue()
    db.dispose()  # no pooled connection crosses the fork
    workers = [ctx.Process(target=_work, args=(db.settings, mail, go, done)) for _ in range(2)]
    for w in workers:
        w.start()
    time.sleep(1.0)  # both connected and waiting
    start = time.perf_counter()
    go.set()
    counts = [done.get(timeout=600) for _ in workers]
    seconds = time.perf_counter() - start
    for w in workers:
        w.join()
    return seconds, counts


def run(engine: str, n: int = MESSAGES) -> dict[str, Any]:
    figures: dict[str, Any] = {"messages": n, "load_average": round(os.getloadavg()[0], 2)}
    with Sink() as sink, fresh_database(engine) as db:
        mail = _mail(sink.port)
        _queue(db, n)
        messages, compose_seconds = _composed(db, mail)
        bare = _bare_smtp(sink.port, messages)
        assert sink.ask("count") == (n, n)
        sink.ask("reset")
        start = time.perf_counter()
        done = deliver_due(db, mail)
        worker = time.perf_counter() - start
        assert done.sent == n and _sent(db) == n, done
        assert sink.ask("count") == (n, n)
        figures |= {
            "worker_seconds": round(worker, 2),
            "worker_per_s": round(n / worker),
            "bare_smtp_seconds": round(bare, 2),
            "bare_smtp_per_s": round(n / bare),
            "compose_per_s": round(n / compose_seconds),
        }
        if engine == "postgresql":
            sink.ask("reset")
            _queue(db, n)
            seconds, counts = _two_workers(db, mail)
            received, distinct = sink.ask("count")
            assert received == distinct == n and sum(counts) == n, (received, distinct, counts)
            assert _sent(db) == 2 * n
            figures |= {
                "two_workers_seconds": round(seconds, 2),
                "two_workers_per_s": round(n / seconds),
                "two_workers_each": counts,
                "two_workers_received": received,
                "two_workers_distinct": distinct,
            }
    print(f"{engine}: {figures}")
    return figures
