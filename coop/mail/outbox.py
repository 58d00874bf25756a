"""Writing messages into the outbox, in the caller's transaction.

A message is a row written beside the change that causes it: when that change rolls back,
so does the message; when it commits, the delivery worker (:mod:`coop.mail.worker`) will
send it. A new kind of message is a :class:`~coop.mail.models.MailKind`, its two templates
under ``coop/templates/mail/`` and its subject key (see :mod:`coop.mail.messages`); the
service that causes it calls :func:`enqueue` (or :func:`enqueue_many`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, String, cast, insert, literal, select, update
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from coop.i18n import Language
from coop.mail.models import ERASED_ADDRESS, MailKind, MailStatus, OutboxMessage, SharedContext, is_erased
from coop.types import UTCDateTime

ContextValue = str | int | bool | None


@dataclass(frozen=True, slots=True)
class Mail:
    """A message to put in the outbox: to whom, what kind, in which language, and the values
    its templates are filled with when it is sent."""

    to: str
    kind: MailKind
    language: str
    context: Mapping[str, ContextValue]
    member_id: int | None = None
    at: datetime | None = None
    """When it is put in the outbox, if not when the batch is (each of many writers' changes at its own moment)."""


def _message(mail: Mail, now: datetime) -> dict[str, object]:
    """The message's row, every column but its id."""
    now = mail.at or now
    erased = is_erased(mail.to)  # a person whose address was erased gets nothing: kept as withdrawn
    return {
        "message_id": uuid.uuid4().hex,
        "kind": mail.kind.value,
        "member_id": mail.member_id,
        "recipient": mail.to,
        "language": Language(mail.language).value,
        "context": "{}" if erased else json.dumps(dict(mail.context), sort_keys=True),
        "status": (MailStatus.withdrawn if erased else MailStatus.pending).value,
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
        "last_error": None,
        "sent_at": None,
        "failed_at": None,
        "shared_id": None,
    }


def enqueue(
    session: Session,
    *,
    to: str,
    kind: MailKind,
    language: str,
    context: Mapping[str, ContextValue],
    now: datetime,
    member_id: int | None = None,
) -> str:
    """Put a message to ``to`` in the outbox, due at once; ``context`` fills its templates.
    Written as a row, not through the ORM's flush: a notice goes with many changes (each change
    of choices), and the ORM's unit of work costs several times the INSERT. Returns its id."""
    row = _message(Mail(to, kind, language, context, member_id), now)
    session.flush()  # the rows it may name (its member) are written first, as the ORM would
    session.connection().execute(_INSERT, row)
    return str(row["message_id"])


_INSERT = insert(OutboxMessage.__table__)  # type: ignore[attr-defined]


def enqueue_many(session: Session, mails: Sequence[Mail], now: datetime) -> None:
    """Put many messages in the outbox in one statement (a file of new members, a digest)."""
    if not mails:
        return
    rows = [_message(m, now) for m in mails if not is_erased(m.to)]  # an erased address gets nothing
    if not rows:
        return
    session.connection().execute(_INSERT, rows)


def share(session: Session, context: Mapping[str, object], now: datetime) -> int:
    """Store values that many messages will share (see :func:`enqueue_selected`); their id."""
    shared = SharedContext(context=json.dumps(dict(context), sort_keys=True), created_at=now)
    session.add(shared)
    session.flush()
    assert shared.id is not None
    return shared.id


def enqueue_selected(
    session: Session,
    kind: MailKind,
    selection: Select[int | None, str, str, str],
    now: datetime,
    shared_id: int | None = None,
) -> int:
    """Put one message of ``kind`` in the outbox for every row of ``selection`` (member id,
    recipient, language, context as JSON), in one statement: the rows never leave the
    database, so a million members cost no more memory than one. Each Message-ID is a
    fresh prefix for this batch and the member's id. With ``shared_id`` (from :func:`share`)
    every message is filled with those values too, its own context taking precedence.
    Returns how many messages were written; none to a person whose address was erased."""
    rows = selection.subquery()
    member_id, recipient, language, context = rows.c
    batch = uuid.uuid4().hex
    columns = {
        "message_id": literal(batch, String) + literal(".", String) + cast(member_id, String),
        "kind": literal(kind.value, String),
        "member_id": member_id,
        "recipient": recipient,
        "language": language,
        "context": context,
        "status": literal(MailStatus.pending.value, String),
        "created_at": literal(now, UTCDateTime()),
        "next_attempt_at": literal(now, UTCDateTime()),
        "attempts": literal(0, Integer),
        "shared_id": literal(shared_id, Integer),
    }
    from_rows = (
        select(*(value.label(name) for name, value in columns.items()))
        .select_from(rows)
        .where(recipient.not_like(f"{ERASED_ADDRESS}%"))
    )
    written = session.execute(
        insert(OutboxMessage).from_select(list(columns), from_rows), execution_options={"preserve_rowcount": True}
    )
    return int(written.rowcount)  # type: ignore[attr-defined]


def withdraw(session: Session, *, member_id: int, kind: MailKind) -> None:
    """Leave unsent the member's waiting messages of this kind (their content no longer holds).
    One already being sent may still arrive; what it says has been withdrawn elsewhere."""
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.member_id) == member_id,
            col(OutboxMessage.kind) == kind.value,
            col(OutboxMessage.status) == MailStatus.pending.value,
        )
        .values(status=MailStatus.withdrawn.value, context="{}"),
        execution_options={"synchronize_session": False},
    )


def withdraw_all(session: Session, kind: MailKind) -> None:
    """Leave unsent every waiting message of this kind (the demo's made-up members get none)."""
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.kind) == kind.value, col(OutboxMessage.status) == MailStatus.pending.value)
        .values(status=MailStatus.withdrawn.value, context="{}"),
        execution_options={"synchronize_session": False},
    )
