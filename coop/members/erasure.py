"""Erasure (GDPR Art. 17): a former member's identity is forgotten, while the ledger of record
and the books stay complete, because they never held it (see docs/ERASURE.md).

Two steps, each once, each a ``member.erased`` event naming the fields (never their values)
in the transaction that erases them:

* **contact** (:data:`CONTACT_FIELDS`): the email address, the login (its address and
  password hash; it is disabled for good, ``account.disabled``), new addresses waiting for
  their link, and the outbox's copies of the address and of what it was to say. Due when the
  former member asked for it (``member.erasure-requested``: themselves, or the board on their
  request by letter), or when the retention period has passed.
* **name** (:data:`NAME_FIELDS`): due only once the retention period for the books
  (``COOP_PRIVACY_RETENTION_YEARS`` after leaving) has passed: until then the cooperative
  must be able to say to whom it paid what.

Only a former member is erased; :func:`erase_due` is what the daily ``coop members
erase-due`` runs. Writers take turns (the writers' lock, see :mod:`coop.db`), and each step
is checked after the lock is held, so concurrent runs and requests erase each field once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlmodel import Session, col

from coop.auth.models import UserAccount
from coop.auth.policy import Actor, can_manage_member
from coop.auth.service import end_logins
from coop.db import Database
from coop.errors import Conflict, NotFound
from coop.mail.models import ERASED_ADDRESS, MailStatus, OutboxMessage
from coop.members.models import EmailChange, Member, MemberStatus, erased_email
from coop.members.queries import get_for
from ledger import log

CONTACT_FIELDS = ("email", "email-changes", "login", "mail")
NAME_FIELDS = ("name",)
ERASED_HASH = "!erased"
"""What an erased login's password hash holds: no Argon2 hash, so no password matches."""


def _subject(member_id: int) -> str:
    return f"member:{member_id}"


def request(session: Session, actor: Actor, member_id: int, now: datetime) -> Member:
    """Record the former member's request to erase now what the books do not need; asking
    again, or after it was erased, changes nothing. 409 ``member-active`` for a member (who
    leaves first); 404 for anyone but the member themselves and the board."""
    member = get_for(session, actor, member_id)
    if not can_manage_member(actor, member_id):
        raise NotFound(f"no member {member_id}", code="member-not-found")
    if member.status != MemberStatus.left.value:
        raise Conflict("a member's details are erased only after they left", code="member-active")
    if member.erasure_requested_at is not None or member.contact_erased_at is not None:
        return member
    member.erasure_requested_at = now
    session.flush()
    log.append(session, "member.erasure-requested", actor.ledger_name, _subject(member_id), {}, at=now)
    return member


def retention_start(now: datetime, years: int) -> datetime:
    """Who left at or before this moment has been gone ``years`` (29 February: the 28th)."""
    year = now.year - years
    try:
        return now.replace(year=year)
    except ValueError:
        return now.replace(year=year, day=28)


def name_erased_from(member: Member, retention_years: int) -> datetime | None:
    """From when a former member's name is due to be erased (None: a member)."""
    if member.left_at is None:
        return None
    year = member.left_at.year + retention_years
    try:
        return member.left_at.replace(year=year)
    except ValueError:
        return member.left_at.replace(year=year, day=28)


@dataclass(frozen=True, slots=True)
class Erased:
    member_id: int
    number: str
    fields: tuple[str, ...]


def due(session: Session, now: datetime, retention_years: int) -> list[int]:
    """The former members with something to erase at ``now``, by id."""
    gone = col(Member.left_at) <= retention_start(now, retention_years)
    return list(
        session.execute(
            select(col(Member.id))
            .where(
                col(Member.status) == MemberStatus.left.value,
                or_(
                    col(Member.contact_erased_at).is_(None) & (col(Member.erasure_requested_at).is_not(None) | gone),
                    col(Member.name_erased_at).is_(None) & gone,
                ),
            )
            .order_by(col(Member.id))
        ).scalars()
    )


def erase(session: Session, actor: Actor, member_id: int, now: datetime, retention_years: int) -> Erased:
    """Erase what is due of one former member (nothing, when nothing is)."""
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"no member {member_id}", code="member-not-found")
    if member.status != MemberStatus.left.value or member.left_at is None:
        raise Conflict("a member's details are erased only after they left", code="member-active")
    gone = member.left_at <= retention_start(now, retention_years)
    fields: tuple[str, ...] = ()
    if member.contact_erased_at is None and (gone or member.erasure_requested_at is not None):
        _erase_contact(session, actor, member, now)
        fields += CONTACT_FIELDS
    if member.name_erased_at is None and gone:
        member.name = ""
        member.name_erased_at = now
        session.flush()
        log.append(
            session, "member.erased", actor.ledger_name, _subject(member_id), {"fields": list(NAME_FIELDS)}, at=now
        )
        fields += NAME_FIELDS
    return Erased(member_id, member.number, fields)


def _erase_contact(session: Session, actor: Actor, member: Member, now: datetime) -> None:
    assert member.id is not None
    addresses = {member.email}
    account = session.execute(select(UserAccount).where(col(UserAccount.member_id) == member.id)).scalar_one_or_none()
    if account is not None and account.id is not None:
        addresses.add(account.email)
        end_logins(session, account.id)
        account.email = f"{ERASED_ADDRESS}user:{account.id}"
        account.password_hash = ERASED_HASH
        if account.disabled_at is None:
            account.disabled_at = now
            session.flush()
            log.append(session, "account.disabled", actor.ledger_name, f"user:{account.id}", {}, at=now)
    member.email = erased_email(member.id)
    member.contact_erased_at = now
    session.flush()
    session.execute(
        update(EmailChange)
        .where(col(EmailChange.member_id) == member.id, col(EmailChange.withdrawn_at).is_(None))
        .where(col(EmailChange.used_at).is_(None))
        .values(withdrawn_at=now),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(EmailChange).where(col(EmailChange.member_id) == member.id).values(new_email=ERASED_ADDRESS),
        execution_options={"synchronize_session": False},
    )
    mine = or_(col(OutboxMessage.member_id) == member.id, col(OutboxMessage.recipient).in_(addresses))
    session.execute(
        update(OutboxMessage)
        .where(mine, col(OutboxMessage.status) == MailStatus.pending.value)
        .values(status=MailStatus.withdrawn.value),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(OutboxMessage).where(mine).values(recipient=ERASED_ADDRESS, context="{}"),
        execution_options={"synchronize_session": False},
    )
    log.append(
        session, "member.erased", actor.ledger_name, _subject(member.id), {"fields": list(CONTACT_FIELDS)}, at=now
    )


def erase_due(
    db: Database,
    actor: Actor,
    now: datetime,
    retention_years: int,
    *,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[Erased]:
    """Erase what is due at ``now`` of every former member, each in a transaction of its own:
    the run can stop and start again, and a second run (or one alongside) finds nothing more
    to do. With ``dry_run``, what would be erased, changing nothing."""
    with db.unit_of_work(write=False) as session:
        ids = due(session, now, retention_years)
    done: list[Erased] = []
    for n, member_id in enumerate(ids, 1):
        if dry_run:
            with db.unit_of_work(write=False) as session:
                done.append(_would(session, member_id, now, retention_years))
        else:
            with db.unit_of_work() as session:
                done.append(erase(session, actor, member_id, now, retention_years))
        if progress is not None:
            progress(n, len(ids))
    return [e for e in done if e.fields]


def _would(session: Session, member_id: int, now: datetime, retention_years: int) -> Erased:
    member = session.get(Member, member_id)
    assert member is not None and member.left_at is not None
    gone = member.left_at <= retention_start(now, retention_years)
    contact = member.contact_erased_at is None and (gone or member.erasure_requested_at is not None)
    name = member.name_erased_at is None and gone
    return Erased(member_id, member.number, (CONTACT_FIELDS if contact else ()) + (NAME_FIELDS if name else ()))
