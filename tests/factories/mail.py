"""Mail for tests: a real SMTP server (aiosmtpd) on a loopback port that can be told to
refuse or to hold back its answer, mail settings pointing at it, and outbox rows."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import col

from coop.db import Database
from coop.mail import outbox
from coop.mail.messages import Letter, compose
from coop.mail.models import MailKind, OutboxMessage
from coop.settings import MailSettings
from coop.types import utcnow
from tests.factories import services

SENDER = "Coöperatie <bestuur@coop-test.nl>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """What the server received. ``answers`` are the replies to the next messages, in turn
    (a reply other than 250 refuses that message); then every message is accepted.
    ``hold`` (set by a test) makes the server keep the next message's answer until released."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.answers: list[str] = []
        self.lock = threading.Lock()
        self.hold_at: int | None = None
        self.held = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            answer = self.answers.pop(0) if self.answers else "250 OK"
            if answer.startswith("250"):
                parsed = email.message_from_bytes(envelope.content or b"", policy=policy.default)
                assert isinstance(parsed, EmailMessage)
                self.messages.append(parsed)
            hold = self.hold_at is not None and len(self.messages) == self.hold_at
        if hold:
            self.held.set()
            while not self.release.is_set():  # keep the answer back: the sender waits for it
                await asyncio.sleep(0.01)
        return answer

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for m in self.messages]


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def mail_settings(port: int, **changes: object) -> MailSettings:
    values: dict[str, object] = {
        "url": f"smtp://127.0.0.1:{port}",
        "sender": SENDER,
        "portal_url": "http://testserver",
        "timeout_seconds": 10,
    }
    return MailSettings.model_validate({**values, **changes})


def enqueue(database: Database, n: int) -> None:
    """``n`` password reset messages to made-up addresses, due now."""
    with database.unit_of_work() as s:
        for i in range(n):
            outbox.enqueue(
                s,
                to=f"member{i}@coop-test.nl",
                kind=MailKind.password_reset,
                language="en",
                context={"token": f"t{i}", "minutes": 30},
                now=utcnow(),
            )


def statuses(database: Database) -> list[str]:
    """Every outbox message's status, in the order they were written."""
    with database.unit_of_work(write=False) as s:
        return list(s.execute(select(OutboxMessage.status).order_by(OutboxMessage.id)).scalars())


def plain_part(message: EmailMessage) -> str:
    """The message's plain-text part."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_part(message: EmailMessage) -> str:
    """The message's HTML part."""
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def outbox_of(database: Database, *kinds: MailKind) -> list[OutboxMessage]:
    """The outbox's messages (of ``kinds``, or all), oldest first."""
    with database.unit_of_work(write=False) as s:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if kinds:
            query = query.where(col(OutboxMessage.kind).in_([k.value for k in kinds]))
        return list(s.execute(query).scalars())


def composed(client: TestClient, message: OutboxMessage) -> EmailMessage:
    """The message as the mail worker would send it now."""
    assert message.id is not None
    letter = Letter(
        message.id,
        message.message_id,
        message.kind,
        message.recipient,
        message.language,
        message.context,
        0,
        message.member_id,
    )
    return compose(letter, services.database_of(client).settings.mail, utcnow(), b"k" * 32)
