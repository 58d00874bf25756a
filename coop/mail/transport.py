"""Handing a message to the world, as ``COOP_MAIL_URL`` says.

``smtp://[user:pass@]host[:port]`` (STARTTLS when the server offers it; port 25 by default),
``smtps://[user:pass@]host[:port]`` (TLS from the first byte; port 465), and
``file:///path`` (development: each message an ``.eml`` file in that folder).

A refusal is :class:`Temporary` (the server answered 4xx for this message: try again
later), :class:`Unreachable` (no server to talk to, or it refused us rather than the
message: try again later, without counting it against the message) or :class:`Permanent`
(the server answered 5xx for this message: trying again will not help).
"""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Protocol
from urllib.parse import unquote, urlsplit


class DeliveryError(Exception):
    pass


class Temporary(DeliveryError):
    pass


class Permanent(DeliveryError):
    pass


class Unreachable(Temporary):
    """Nothing was said about the message: no connection, a refused login or sender, a full
    disk. Every message would fare the same, so the run stops and no attempt is counted."""


class Transport(Protocol):
    def send(self, message: EmailMessage, name: str) -> None: ...

    def close(self) -> None: ...


class FileTransport:
    """Each message written whole (a temporary file renamed) as ``<name>.eml``; a repeat
    overwrites its earlier copy."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage, name: str) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.folder / f"{name}.eml"
            partial = target.with_suffix(".eml.part")
            partial.write_bytes(message.as_bytes())
            os.replace(partial, target)
        except OSError as exc:
            raise Unreachable(f"cannot write {self.folder}: {exc}") from exc

    def close(self) -> None:
        pass


class SmtpTransport:
    """One connection, opened at the first message and kept for the ones after it."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password or "")
        self.timeout = timeout
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        conn: smtplib.SMTP
        if self.implicit_tls:
            conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if conn.has_extn("starttls"):
                conn.starttls(context=context)
                conn.ehlo()
        if self.user:
            conn.login(self.user, self.password)
        return conn

    def send(self, message: EmailMessage, name: str) -> None:
        try:
            if self._conn is None:
                self._conn = self._connect()
            self._conn.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset_after_refusal()
            codes = [code for code, _ in exc.recipients.values()]
            kind = Permanent if codes and all(500 <= code < 600 for code in codes) else Temporary
            raise kind(f"recipient refused: {_said(exc.recipients)}") from exc
        except smtplib.SMTPDataError as exc:
            self._reset_after_refusal()
            kind = Permanent if 500 <= exc.smtp_code < 600 else Temporary
            raise kind(f"message refused: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            # a lost or refused connection, a refused login or sender: nothing about this
            # message says it can never be delivered
            self.close()
            raise Unreachable(f"{type(exc).__name__}: {exc}") from exc

    def _reset_after_refusal(self) -> None:
        try:
            if self._conn is not None:
                self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else raw


def _said(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{code} {_text(text)}" for code, text in recipients.values())


def open_transport(url: str, timeout: float) -> Transport:
    scheme = urlsplit(url).scheme
    if scheme == "file":
        return FileTransport(Path(unquote(urlsplit(url).path)))
    if scheme in ("smtp", "smtps"):
        return SmtpTransport(url, timeout)
    raise ValueError(f"COOP_MAIL_URL must start with smtp://, smtps:// or file://, not {scheme!r}")


class Opened:
    """``with Opened(url, timeout) as transport``: closed at the end."""

    def __init__(self, url: str, timeout: float) -> None:
        self.transport = open_transport(url, timeout)

    def __enter__(self) -> Transport:
        return self.transport

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.transport.close()
