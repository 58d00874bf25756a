"""Telling members by mail what was done to their choices and proxies, and by whom.

A security notice goes to a member whenever their choices change (opting out and back in
included) or a proxy of theirs is appointed or ends, saying who did it: the member
("you"), their proxy (by member number only), or the board. It cannot be switched off, so
a stolen login cannot act unseen. A proxy is told when they start or stop acting for a
principal, who is named by member number only: a member never sees another member's data.

Messages go through the outbox, in the transaction of the change: a change that rolls
back or is refused sends nothing. One change sends a member at most one message of each
kind, however many rows it touches. The ledger of record holds none of this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from coop.auth.policy import Actor
from coop.carers.models import Carer, carer_label
from coop.mail import outbox
from coop.mail.models import MailKind
from coop.members.models import Member, MemberStatus, member_number

_SENT = "coop.notices.sent"


def by_whom(actor: Actor, member_id: int, session: Session | None = None) -> dict[str, str | None]:
    """Who acted, as the member ``member_id`` is told: ``you``, their ``proxy`` (with the
    proxy's member number, or a carer's name: the member chose that person; without a
    ``session`` the carer's number) or the ``board`` (a board user or the operator)."""
    if actor.carer_id is not None:
        carer = session.get(Carer, actor.carer_id) if session is not None else None
        return {"by": "proxy", "by_number": carer.name if carer is not None else carer_label(actor.carer_id)}
    if actor.member_id == member_id:
        return {"by": "you", "by_number": None}
    if actor.member_id is not None:
        return {"by": "proxy", "by_number": member_number(actor.member_id)}
    return {"by": "board", "by_number": None}


def _first_in_transaction(session: Session, key: tuple[int, MailKind]) -> bool:
    """Whether no message of this kind went to this member yet in the current transaction."""
    transaction: SessionTransaction | None = session.get_transaction()
    owner, sent = session.info.get(_SENT, (None, set()))
    if owner is not transaction:
        owner, sent = transaction, set()
        session.info[_SENT] = (owner, sent)
    if key in sent:
        return False
    sent.add(key)
    return True


@dataclass(frozen=True, slots=True)
class Addressee:
    """A member as a notice needs them: where and how to write, and whether they are still a member."""

    member_id: int
    name: str
    email: str
    language: str
    status: str


def notify(
    session: Session, member_id: int, kind: MailKind, context: Mapping[str, outbox.ContextValue], now: datetime
) -> None:
    """Put a notice to the member in the outbox, in their language; nothing for a member who
    left, and nothing when this change already told them this."""
    member = session.get(Member, member_id)
    if member is None:
        return
    assert member.id is not None
    addressee = Addressee(member.id, member.name, member.email, member.language, member.status)
    notify_all(session, kind, [(addressee, context, now)])


def notify_all(
    session: Session, kind: MailKind, told: Sequence[tuple[Addressee, Mapping[str, outbox.ContextValue], datetime]]
) -> None:
    """:func:`notify` for many members whose rows the caller holds (each with the moment of its
    change), in one statement."""
    mails = [
        outbox.Mail(a.email, kind, a.language, {"name": a.name, **context}, a.member_id, at)
        for a, context, at in told
        if a.status == MemberStatus.active.value and _first_in_transaction(session, (a.member_id, kind))
    ]
    if mails:
        session.flush()  # the rows a message may name (its member) are written first, as the ORM would
        outbox.enqueue_many(session, mails, told[0][2])
