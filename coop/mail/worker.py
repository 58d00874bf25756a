"""The delivery worker: claim a due message, send it, record how it went; again, until none is due.

**Nothing lost, at most one repeat.** A message is claimed in a short transaction that
moves its next attempt a lease ahead (``COOP_MAIL_LEASE_SECONDS``) and counts the attempt;
it is sent outside any transaction; how it went (sent, a retry scheduled, failed) is written
in the short transaction that claims the worker's next message, or in one of its own when
there is none: one commit per message, not two. A worker that dies between sending and
that commit leaves the message pending: once the lease runs out another worker sends it
again, with the same Message-ID. Each worker holds one message at a time (the one it is
sending, or has just sent and not yet recorded), so at most that one repeats.

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

from sqlalchemy import Connection, Table, select, update

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


_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
_SHARED: Table = SharedContext.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an attempt went: what to write on the message, and what the run counts."""

    letter: Letter
    values: dict[str, object]
    done: Delivered
    sent: bool = False


def _settle(conn: Connection, outcome: Outcome) -> None:
    letter, c = outcome.letter, _OUTBOX.c
    conditions = [c.id == letter.id, c.status == MailStatus.pending.value]
    if not outcome.sent:  # a failure does not undo what a later claim of the same message did
        conditions.append(c.attempts == letter.attempts)
    conn.execute(update(_OUTBOX).where(*conditions).values(**outcome.values))


def _lease_next(conn: Connection, now: datetime, lease_seconds: int) -> Letter | None:
    """One statement: the first due message gets its lease and its attempt counted."""
    c = _OUTBOX.c
    due = (
        select(c.id)
        .where(c.status == MailStatus.pending.value, c.next_attempt_at <= now)
        .order_by(c.next_attempt_at, c.id)
        .limit(1)
    )
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    row = conn.execute(
        update(_OUTBOX)
        .where(c.id == due.scalar_subquery())
        .values(attempts=c.attempts + 1, next_attempt_at=now + timedelta(seconds=lease_seconds))
        .returning(c.id, c.message_id, c.kind, c.recipient, c.language, c.context, c.attempts, c.member_id, c.shared_id)
    ).one_or_none()
    if row is None:
        return None
    shared = "{}"
    if row.shared_id is not None:  # values of a pass, stored once (a digest's permits)
        shared = conn.execute(select(_SHARED.c.context).where(_SHARED.c.id == row.shared_id)).scalar_one()
    return Letter(
        row.id, row.message_id, row.kind, row.recipient, row.language, row.context, row.attempts, row.member_id, shared
    )


def claim(conn: Connection, now: datetime, lease_seconds: int, settle: Outcome | None = None) -> Letter | None:
    """The next due message, now leased to the caller; None when nothing is due.

    ``settle``, the outcome of the caller's previous message, is written in the same
    transaction: one commit per message, and still only the message being sent is unsettled."""
    with conn.begin():
        if settle is not None:
            _settle(conn, settle)
        return _lease_next(conn, now, lease_seconds)


def settle(conn: Connection, outcome: Outcome) -> None:
    """Write how an attempt went, in a transaction of its own."""
    with conn.begin():
        _settle(conn, outcome)


def attempt(letter: Letter, transport: Transport, mail: MailSettings, clock: Clock, key: bytes) -> Outcome:
    """Send a claimed message; how it went, to be settled."""
    try:
        transport.send(compose(letter, mail, clock(), key), f"{letter.message_id}")
    except Unreachable as exc:
        # an outage is nobody's message's fault: the attempt is not counted, so none fails of it
        values: dict[str, object] = {
            "attempts": letter.attempts - 1,
            "next_attempt_at": clock() + timedelta(seconds=mail.first_retry_seconds),
            "last_error": str(exc)[:500],
        }
        logger.warning("cannot deliver mail now: %s", exc)
        return Outcome(letter, values, Delivered(retrying=1, stopped=True))
    except Permanent as exc:
        logger.warning("message %s undeliverable: %s", letter.id, exc)
        return Outcome(letter, _failed(exc, clock()), Delivered(failed=1))
    except Temporary as exc:
        now = clock()
        if letter.attempts >= mail.max_attempts:
            return Outcome(letter, _failed(exc, now), Delivered(failed=1))
        wait = min(mail.max_retry_seconds, mail.first_retry_seconds * 2 ** (letter.attempts - 1))
        logger.info("message %s will be tried again in %s s: %s", letter.id, wait, exc)
        values = {"next_attempt_at": now + timedelta(seconds=wait), "last_error": str(exc)[:500]}
        return Outcome(letter, values, Delivered(retrying=1))
    values = {"status": MailStatus.sent.value, "sent_at": clock(), "context": "{}"}
    return Outcome(letter, values, Delivered(sent=1), sent=True)


def _failed(exc: Exception, now: datetime) -> dict[str, object]:
    return {"status": MailStatus.failed.value, "failed_at": now, "last_error": str(exc)[:500], "context": "{}"}


def deliver_due(db: Database, mail: MailSettings, clock: Clock = utcnow, limit: int | None = None) -> Delivered:
    """Deliver every message due now (up to ``limit``), over one transport connection.

    Each message's outcome is written in the transaction that claims the next one (or in
    one of its own after the last). A message that fails for now is not tried again in the
    same run (its next attempt lies ahead), so a run always ends."""
    total = Delivered()
    key = unsubscribe.key_from(db.settings.auth.secret_file.read_bytes().strip())
    previous: Outcome | None = None
    # one connection for the run: a transaction per message and nothing more on the wire
    with schedule.engine(db).connect() as conn, Opened(mail.url, mail.timeout_seconds) as transport:
        while limit is None or total.sent + total.retrying + total.failed < limit:
            if previous is not None and previous.done.stopped:
                break  # the mail server cannot be reached: the rest waits for the next run
            letter = claim(conn, clock(), mail.lease_seconds, settle=previous)
            previous = None
            if letter is None:
                break
            previous = attempt(letter, transport, mail, clock, key)
            total += previous.done
        if previous is not None:
            settle(conn, previous)
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
