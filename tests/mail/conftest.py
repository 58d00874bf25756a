"""A real SMTP server (aiosmtpd) on a loopback port, that can be told to refuse, and the
mail settings that point the delivery worker at it."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from coop.settings import MailSettings, Settings

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


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.inbox.release.set()
    server.stop()


def mail_settings(port: int, **changes: object) -> MailSettings:
    return MailSettings(
        url=f"smtp://127.0.0.1:{port}", sender=SENDER, portal_url="http://testserver", timeout_seconds=10, **changes
    )


@pytest.fixture
def mail(smtp: SmtpServer) -> MailSettings:
    return mail_settings(smtp.port)


@pytest.fixture
def settings(settings: Settings, mail: MailSettings) -> Settings:
    """The application's settings, with the test server's mail settings (for reset links)."""
    return settings.model_copy(update={"mail": mail})
