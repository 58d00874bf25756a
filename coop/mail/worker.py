"""The delivery worker: claim a due message, send it, record how it went; again, until none is due.

**Nothing lost, at most one repeat.** A message is claimed in a short transaction of its
own that moves its next attempt a lease ahead (``COOP_MAIL_LEASE_SECONDS``) and counts the
attempt; it is sent outside any transaction; a second short transaction marks it sent (or
schedules a retry, or marks it failed). A worker that dies between sending and marking
leaves the message pending: once the lease runs out another worker sends it again, with the
same Message-ID. Each worker holds one message at a time, so at most that one repeats.

**Several workers.** On PostgreSQL a claim takes the due row ``FOR UPDATE SKIP LOCKED``:
workers never wait for each other and never claim the same row while its lease runs. Claims
take no other lock (not the writers' lock: they change only the outbox), so they cannot
wait in a cycle with the cooperative's writers. On SQLite, a claim is a ``BEGIN IMMEDIATE``
transaction like every write: one at a time.

**Retries.** A 4xx answer about a message makes it wait ``COOP_MAIL_FIRST_RETRY_SECONDS``,
doubling per attempt up to ``COOP_MAIL_MAX_RETRY_SECONDS``; after ``COOP_MAIL_MAX_ATTEMPTS``
attempts, or at a permanent failure (5xx), the message is failed and the board sees it
(:mod:`coop.mail.queries`). When the mail server cannot be reached at all, the run stops
and the message waits ``COOP_MAIL_FIRST_RETRY_SECONDS`` without the attempt being counted:
however long an outage lasts, no message fails of it.

The worker is a boundary: it reads the clock (``clock``), as a request or a command does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session, col

from coop.db import Database
from coop.mail import schedule, unsubscribe
from coop.mail.messages import Letter, compose
from coop.mail.models import MailStatus, OutboxMessage, SharedContext
from coop.mail.transport import Opened, Permanent, Temporary, Transport, Unreachable
from coop.settings import MailSettings
from coop.types import utcnow

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Delivered:
    """What one run did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    stopped: bool = False
    """The mail server could not be reached: the rest waits for the next run."""

    def __add__(self, other: Delivered) -> Delivered:
        return Delivered(
            self.sent + other.sent,
            self.retrying + other.retrying,
            self.failed + other.failed,
            self.stopped or other.stopped,
        )


def claim(db: Database, now: datetime, lease_seconds: int) -> Letter | None:
    """The next due message, now leased to the caller; None when nothing is due."""
    stmt = (
        select(OutboxMessage)
        .where(col(OutboxMessage.status) == MailStatus.pending.value, col(OutboxMessage.next_attempt_at) <= now)
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(1)
    )
    if db.dialect == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    with Session(schedule.engine(db), expire_on_commit=False) as session, session.begin():
        row = session.execute(stmt).scalar_one_or_none()
        if row is None:
            return None
        row.attempts += 1
        row.next_attempt_at = now + timedelta(seconds=lease_seconds)
        assert row.id is not None
        shared = None if row.shared_id is None else session.get(SharedContext, row.shared_id)
        return Letter(
            row.id,
            row.message_id,
            row.kind,
            row.recipient,
            row.language,
            row.context,
            row.attempts,
            row.member_id,
            "{}" if shared is None else shared.context,
        )


def _settle(db: Database, letter: Letter, values: dict[str, object], *, sent: bool) -> None:
    conditions = [col(OutboxMessage.id) == letter.id, col(OutboxMessage.status) == MailStatus.pending.value]
    if not sent:  # a failure does not undo what a later claim of the same message did
        conditions.append(col(OutboxMessage.attempts) == letter.attempts)
    with Session(schedule.engine(db)) as session, session.begin():
        session.execute(update(OutboxMessage).where(*conditions).values(**values))


def deliver_one(db: Database, transport: Transport, mail: MailSettings, clock: Clock) -> Delivered | None:
    """Claim, send and settle one message; None when nothing is due."""
    letter = claim(db, clock(), mail.lease_seconds)
    if letter is None:
        return None
    try:
        key = unsubscribe.key_from(db.settings.auth.secret_file.read_bytes().strip())
        transport.send(compose(letter, mail, clock(), key), f"{letter.message_id}")
    except Unreachable as exc:
        # an outage is nobody's message's fault: the attempt is not counted, so none fails of it
        values = {
            "attempts": letter.attempts - 1,
            "next_attempt_at": clock() + timedelta(seconds=mail.first_retry_seconds),
        }
        _settle(db, letter, {**values, "last_error": str(exc)[:500]}, sent=False)
        logger.warning("cannot deliver mail now: %s", exc)
        return Delivered(retrying=1, stopped=True)
    except Permanent as exc:
        now = clock()
        _settle(db, letter, _failed(exc, now), sent=False)
        logger.warning("message %s undeliverable: %s", letter.id, exc)
        return Delivered(failed=1)
    except Temporary as exc:
        now = clock()
        if letter.attempts >= mail.max_attempts:
            _settle(db, letter, _failed(exc, now), sent=False)
            return Delivered(failed=1)
        wait = min(mail.max_retry_seconds, mail.first_retry_seconds * 2 ** (letter.attempts - 1))
        _settle(
            db, letter, {"next_attempt_at": now + timedelta(seconds=wait), "last_error": str(exc)[:500]}, sent=False
        )
        logger.info("message %s will be tried again in %s s: %s", letter.id, wait, exc)
        return Delivered(retrying=1)
    _settle(db, letter, {"status": MailStatus.sent.value, "sent_at": clock(), "context": "{}"}, sent=True)
    return Delivered(sent=1)


def _failed(exc: Exception, now: datetime) -> dict[str, object]:
    return {"status": MailStatus.failed.value, "failed_at": now, "last_error": str(exc)[:500], "context": "{}"}


def deliver_due(db: Database, mail: MailSettings, clock: Clock = utcnow, limit: int | None = None) -> Delivered:
    """Deliver every message due now (up to ``limit``), over one transport connection.

    A message that fails for now is not tried again in the same run (its next attempt lies
    ahead), so a run always ends."""
    total = Delivered()
    with Opened(mail.url, mail.timeout_seconds) as transport:
        while limit is None or total.sent + total.retrying + total.failed < limit:
            done = deliver_one(db, transport, mail, clock)
            if done is None:
                break
            total += done
            if done.stopped:
                break
    return total


class MailSchedule:
    """A thread that makes the scheduled passes that are due (:mod:`coop.mail.schedule`) and
    delivers due messages, every ``COOP_MAIL_POLL_SECONDS`` while the server runs."""

    def __init__(self, db: Database, passes: Sequence[schedule.MailPass] = ()) -> None:
        self.db = db
        self.passes = passes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.run, name="mail-delivery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def run(self) -> None:
        mail = self.db.settings.mail
        while not self._stop.is_set():
            try:
                schedule.run(self.db, self.passes, utcnow())
                deliver_due(self.db, mail)
            except Exception:  # the database may be away for a while; try again next time
                logger.warning("could not deliver mail", exc_info=True)
            self._stop.wait(mail.poll_seconds)
