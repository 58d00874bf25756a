"""Admitting members, inviting them to set a password (by mail, through the outbox), reading
and leaving.

Personal data (name, email) stays in the member table; the ledger of record names a
member only by id and number, so it never has to be rewritten to forget a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlmodel import Session, col

from coop.auth import service as auth_service
from coop.auth.models import UserAccount
from coop.auth.policy import Actor, can_manage_member, can_read_member
from coop.auth.secrets import new_invitation_token, sha256_hex
from coop.auth.service import accept_invitation as accept_invitation  # the accounts' own; admitting invites
from coop.choices import service as choices_service
from coop.errors import Conflict, NotFound
from coop.i18n import Language, local_time
from coop.mail import outbox
from coop.mail.models import MailKind
from coop.members.models import Invitation, Member, MemberStatus, member_number, parse_member_number
from coop.proxies import service as proxies_service
from coop.settings import AuthSettings
from ledger import log


def subject(member_id: int) -> str:
    return f"member:{member_id}"


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    invitation: Invitation
    token: str


def _withdraw_invitations(session: Session, member_id: int, at: datetime) -> None:
    for old in session.execute(
        select(Invitation).where(
            col(Invitation.member_id) == member_id,
            col(Invitation.used_at).is_(None),
            col(Invitation.withdrawn_at).is_(None),
        )
    ).scalars():
        old.withdrawn_at = at


def _issue_invitation(session: Session, member: Member, hours: int, actor: str, now: datetime) -> IssuedInvitation:
    assert member.id is not None
    _withdraw_invitations(session, member.id, now)
    token = new_invitation_token()
    invitation = Invitation(
        member_id=member.id, token_hash=sha256_hex(token), created_at=now, expires_at=now + timedelta(hours=hours)
    )
    session.add(invitation)
    session.flush()
    outbox.withdraw(session, member_id=member.id, kind=MailKind.invitation)  # an older link no longer works
    outbox.enqueue(
        session,
        to=member.email,
        kind=MailKind.invitation,
        language=member.language,
        context={"name": member.name, "token": token, "until": local_time(invitation.expires_at, member.language)},
        now=now,
        member_id=member.id,
    )
    log.append(
        session,
        "member.invited",
        actor,
        subject(member.id),
        {"invitation_id": invitation.id, "expires_at": invitation.expires_at.isoformat()},
        at=now,
    )
    return IssuedInvitation(invitation, token)


def admit(
    session: Session, auth: AuthSettings, actor: Actor, name: str, email: str, language: Language, now: datetime
) -> tuple[Member, IssuedInvitation]:
    email = auth_service.normalise_email(email)
    if session.execute(select(col(Member.id)).where(col(Member.email) == email)).first():
        raise Conflict("a member with this email exists already", code="member-exists")
    member = Member(
        name=name.strip(), email=email, language=language.value, status=MemberStatus.active.value, admitted_at=now
    )
    session.add(member)
    session.flush()
    assert member.id is not None
    log.append(
        session,
        "member.admitted",
        actor.ledger_name,
        subject(member.id),
        {"number": member_number(member.id), "language": member.language},
        at=member.admitted_at,
    )
    choices_service.start(session, member, actor.ledger_name)
    return member, _issue_invitation(session, member, auth.invitation_hours, actor.ledger_name, now)


def reinvite(session: Session, auth: AuthSettings, actor: Actor, member_id: int, now: datetime) -> IssuedInvitation:
    member = get_for(session, actor, member_id)
    if member.status == MemberStatus.left.value:
        raise Conflict("this member has left the cooperative", code="member-left")
    if session.execute(select(col(UserAccount.id)).where(col(UserAccount.member_id) == member_id)).first():
        raise Conflict("this member has set a password already", code="account-exists")
    return _issue_invitation(session, member, auth.invitation_hours, actor.ledger_name, now)


def get_for(session: Session, actor: Actor, member_id: int) -> Member:
    """The member, if this actor may see them; otherwise NotFound, exactly as if absent."""
    member = session.get(Member, member_id) if can_read_member(actor, member_id) else None
    if member is None:
        raise NotFound(f"no member {member_id}", code="member-not-found")
    return member


def search(
    session: Session, q: str | None, status: MemberStatus | None, limit: int, offset: int
) -> tuple[list[Member], int]:
    stmt = select(Member)
    if q:
        number = parse_member_number(q)
        like = f"%{q.strip().lower()}%"
        conditions: list[ColumnElement[bool]] = [func.lower(col(Member.name)).like(like), col(Member.email).like(like)]
        if number is not None:
            conditions.append(col(Member.id) == number)
        stmt = stmt.where(or_(*conditions))
    if status is not None:
        stmt = stmt.where(col(Member.status) == status.value)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(col(Member.id)).limit(limit).offset(offset)).scalars()
    return list(rows), int(total)


def leave(session: Session, actor: Actor, member_id: int, now: datetime) -> Member:
    """End a membership. Leaving again changes nothing (safe to retry).

    In the same transaction: the choices record the end of membership, every appointment
    in which the member acts for others or others act for them ends, open invitations are
    withdrawn (implied by the ``member.left`` event, as a new invitation implies the
    withdrawal of the old one), and every login token of the member stops working. The
    former member may log in again to read their own record (see
    :data:`coop.auth.policy.FORMER_MEMBERSHIP`)."""
    member = get_for(session, actor, member_id)
    if not can_manage_member(actor, member_id):
        raise NotFound(f"no member {member_id}", code="member-not-found")
    if member.status == MemberStatus.left.value:
        return member
    appointments = proxies_service.running_for(session, member_id, now)
    _withdraw_invitations(session, member_id, now)
    auth_service.end_member_logins(session, member_id)
    member.status = MemberStatus.left.value
    member.left_at = now
    session.flush()
    log.append(session, "member.left", actor.ledger_name, subject(member_id), {}, at=now)
    choices_service.end_membership(session, member_id, now, actor.ledger_name)
    proxies_service.end_for_leaver(session, appointments, member_id, now, actor.ledger_name)
    return member
