"""Rectification (GDPR Art. 16): a member corrects their name, or moves to a new email address.

* **Name**: changed at once; the member is told (a security notice, saying by whom).
* **Email**: the new address takes effect only when the single-use link mailed *to it* is
  followed within ``COOP_MAIL_EMAIL_CHANGE_MINUTES``, which proves the address is theirs; a
  newer request withdraws the older link. The old address is told when the change is asked
  for and again when it took effect, saying by whom; the member's login moves with it.

Who may: the member themselves (also after leaving: the cooperative still keeps their name
and address) and the board on the member's request (:func:`coop.auth.policy.can_rectify`);
anyone else is told the member does not exist. A proxy may not: an appointment covers
choices and votes, never the address a member's login and notices go to.

**Taken addresses.** An address is a member's or a login's at most once. Confirming a link
for an address another member or login holds by then is refused (409 ``email-taken``); only
the holder of that mailbox can get that far, and they could learn it anyway. Asking is
answered the same whether or not the address is taken when a member asks, so a member
cannot probe which addresses belong to members; the board, which sees every member, is told
at once (409 ``email-taken``). A request reserves nothing: of several members confirming the
same new address, the first wins and the others get 409 (writes take turns under the
writers' lock, so the check holds until commit).

The ledger of record holds no name and no address: its events (``member.renamed``,
``member.email-change-requested``, ``member.email-changed``) name the member by id only.
The database lets exactly these personal columns change (migration 0012).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy import func, or_, select, update
from sqlmodel import Session, col

from coop.auth.models import UserAccount
from coop.auth.policy import Actor, Permission, can_rectify, has
from coop.auth.secrets import new_invitation_token, sha256_hex
from coop.auth.service import normalise_email
from coop.choices.notices import by_whom
from coop.errors import Conflict, Gone, Invalid, NotFound, TooManyRequests
from coop.i18n import local_time
from coop.mail import outbox
from coop.mail.models import MailKind
from coop.members.models import EmailChange, Member
from coop.settings import MailSettings
from ledger import log

MAX_NAME = 200
_EMAIL = TypeAdapter(EmailStr)


def _subject(member_id: int) -> str:
    return f"member:{member_id}"


def _member(session: Session, actor: Actor, member_id: int) -> Member:
    member = session.get(Member, member_id) if can_rectify(actor, member_id) else None
    if member is None:
        raise NotFound(f"no member {member_id}", code="member-not-found")
    return member


def _notice(session: Session, member: Member, to: str, kind: MailKind, by: str, now: datetime, **context: str) -> None:
    """A security notice to ``to`` in the member's language; it cannot be switched off."""
    assert member.id is not None
    outbox.enqueue(
        session,
        to=to,
        kind=kind,
        language=member.language,
        context={"name": member.name, "by": by, "by_number": None, **context},
        now=now,
        member_id=member.id,
    )


def checked_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise Invalid(f"a name has 1 to {MAX_NAME} characters", code="invalid-name", field="name")
    return name


def checked_email(email: str) -> str:
    try:
        address = str(_EMAIL.validate_python(email.strip()))
    except ValidationError as exc:
        raise Invalid("this is not an email address", code="invalid-email", field="email") from exc
    if len(address) > 320:
        raise Invalid("an email address has at most 320 characters", code="invalid-email", field="email")
    return normalise_email(address)


def rename(session: Session, actor: Actor, member_id: int, name: str, now: datetime) -> Member:
    """The member under their corrected name, at once; the same name again changes nothing."""
    member = _member(session, actor, member_id)
    if member.name_erased_at is not None:
        raise Conflict("this former member's name has been erased", code="member-erased")
    name = checked_name(name)
    if name == member.name:
        return member
    member.name = name
    session.flush()
    log.append(session, "member.renamed", actor.ledger_name, _subject(member_id), {}, at=now)
    _notice(session, member, member.email, MailKind.name_changed, _by(actor, member_id), now)
    return member


def _by(actor: Actor, member_id: int) -> str:
    by = by_whom(actor, member_id)["by"]
    assert by in ("you", "board")  # can_rectify lets no proxy act
    return str(by)


def _taken(session: Session, email: str, member_id: int) -> bool:
    """Whether another member or another login holds this (normalised) address."""
    other_member = select(col(Member.id)).where(col(Member.email) == email, col(Member.id) != member_id)
    other_login = select(col(UserAccount.id)).where(
        col(UserAccount.email) == email,
        or_(col(UserAccount.member_id).is_(None), col(UserAccount.member_id) != member_id),
    )
    return session.execute(other_member.union_all(other_login).limit(1)).first() is not None


@dataclass(frozen=True, slots=True)
class Requested:
    new_email: str
    expires_at: datetime


def request_email_change(
    session: Session, actor: Actor, mail: MailSettings, member_id: int, email: str, now: datetime
) -> Requested:
    """Mail a single-use link to the new address (the older link stops working) and tell the
    old address; nothing changes until the link is followed."""
    member = _member(session, actor, member_id)
    if member.contact_erased_at is not None:
        raise Conflict("this former member's email address has been erased", code="member-erased")
    new_email = checked_email(email)
    if new_email == member.email:
        raise Invalid("this is the member's email address already", code="email-unchanged", field="email")
    if has(actor, Permission.list_members) and _taken(session, new_email, member_id):
        raise Conflict("another member or login has this email address", code="email-taken", field="email")
    _limit(session, mail, member_id, now)
    session.execute(
        update(EmailChange)
        .where(
            col(EmailChange.member_id) == member_id,
            col(EmailChange.used_at).is_(None),
            col(EmailChange.withdrawn_at).is_(None),
        )
        .values(withdrawn_at=now),
        execution_options={"synchronize_session": False},
    )
    outbox.withdraw(session, member_id=member_id, kind=MailKind.email_change_confirm)
    token = new_invitation_token()
    expires = now + timedelta(minutes=mail.email_change_minutes)
    session.add(
        EmailChange(
            member_id=member_id,
            new_email=new_email,
            token_hash=sha256_hex(token),
            requested_by=actor.ledger_name,
            created_at=now,
            expires_at=expires,
        )
    )
    session.flush()
    by = _by(actor, member_id)
    until = local_time(expires, member.language)
    outbox.enqueue(  # no name: whoever holds this address may not be the member (a typing error)
        session,
        to=new_email,
        kind=MailKind.email_change_confirm,
        language=member.language,
        context={"token": token, "until": until, "minutes": mail.email_change_minutes},
        now=now,
        member_id=member_id,
    )
    _notice(session, member, member.email, MailKind.email_change_requested, by, now, new_email=new_email)
    log.append(
        session,
        "member.email-change-requested",
        actor.ledger_name,
        _subject(member_id),
        {"expires_at": expires.isoformat()},
        at=now,
    )
    return Requested(new_email, expires)


def _limit(session: Session, mail: MailSettings, member_id: int, now: datetime) -> None:
    """At most ``email_change_max_per_hour`` links for one member: nobody fills a mailbox."""
    hour_ago = now - timedelta(hours=1)
    recent, oldest = session.execute(
        select(func.count(), func.min(col(EmailChange.created_at))).where(
            col(EmailChange.member_id) == member_id, col(EmailChange.created_at) > hour_ago
        )
    ).one()
    if recent >= mail.email_change_max_per_hour:
        wait = max(1, int((oldest - hour_ago).total_seconds()) + 1)
        raise TooManyRequests(
            f"too many requests to change this email address; try again in {wait} seconds", retry_after=wait
        )


def confirm_email_change(session: Session, token: str, now: datetime) -> Member:
    """Follow the link: the member's email, and their login's, become the new address; the old
    address is told. Whoever holds the link may follow it, logged in or not."""
    change = session.execute(
        select(EmailChange).where(col(EmailChange.token_hash) == sha256_hex(token))
    ).scalar_one_or_none()
    if change is None or change.withdrawn_at is not None:
        raise Invalid("this link is not valid", code="email-change-invalid", field="token")
    if change.used_at is not None:
        raise Gone("this link has been used already", code="email-change-used")
    if change.expires_at <= now:
        raise Gone("this link has expired; ask for a new one", code="email-change-expired")
    member = session.get(Member, change.member_id)
    assert member is not None and member.id is not None
    if _taken(session, change.new_email, member.id):
        raise Conflict("another member or login has this email address", code="email-taken")
    account = session.execute(select(UserAccount).where(col(UserAccount.member_id) == member.id)).scalar_one_or_none()
    old_email = member.email
    member.email = change.new_email
    if account is not None:
        account.email = change.new_email
    change.used_at = now
    session.flush()
    by = "you" if account is not None and change.requested_by == f"user:{account.id}" else "board"
    _notice(session, member, old_email, MailKind.email_changed, by, now, new_email=change.new_email)
    log.append(session, "member.email-changed", change.requested_by, _subject(member.id), {}, at=now)
    return member
