"""Admitting members, inviting them to set a password, reading and leaving.

Personal data (name, email) stays in the member table; the ledger of record names a
member only by id and number, so it never has to be rewritten to forget a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from coop.auth import service as auth_service
from coop.auth.models import UserAccount
from coop.auth.policy import Actor, can_manage_member
from coop.auth.secrets import new_invitation_token, sha256_hex
from coop.auth.service import accept_invitation as accept_invitation  # the accounts' own; admitting invites
from coop.choices import service as choices_service
from coop.errors import Conflict, NotFound
from coop.i18n import Language
from coop.members.models import Invitation, Member, MemberStatus, member_number
from coop.members.queries import get_for
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


def _issue_invitation(session: Session, actor: Actor, member: Member, hours: int, now: datetime) -> IssuedInvitation:
    assert member.id is not None
    _withdraw_invitations(session, member.id, now)
    token = new_invitation_token()
    invitation = Invitation(
        member_id=member.id, token_hash=sha256_hex(token), created_at=now, expires_at=now + timedelta(hours=hours)
    )
    session.add(invitation)
    session.flush()
    log.append(
        session,
        "member.invited",
        actor.ledger_name,
        subject(member.id),
        {"invitation_id": invitation.id, "expires_at": invitation.expires_at.isoformat()},
        at=now,
    )
    return IssuedInvitation(invitation, token)


def admit(
    session: Session,
    actor: Actor,
    auth: AuthSettings,
    name: str,
    email: str,
    language: Language,
    now: datetime,
    *,
    external_ref: str | None = None,
) -> tuple[Member, IssuedInvitation]:
    """A new member (``external_ref``: their number in the membership administration, if
    any), with their first choices and an invitation to set a password."""
    email = auth_service.normalise_email(email)
    if session.execute(select(col(Member.id)).where(col(Member.email) == email)).first():
        raise Conflict("a member with this email exists already", code="member-exists")
    if external_ref and session.execute(select(col(Member.id)).where(col(Member.external_ref) == external_ref)).first():
        raise Conflict("a member with this reference exists already", code="reference-exists")
    member = Member(
        name=name.strip(),
        email=email,
        language=language.value,
        status=MemberStatus.active.value,
        admitted_at=now,
        external_ref=external_ref or None,
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
    choices_service.start(session, actor, member)
    return member, _issue_invitation(session, actor, member, auth.invitation_hours, now)


def reinvite(session: Session, actor: Actor, auth: AuthSettings, member_id: int, now: datetime) -> IssuedInvitation:
    member = get_for(session, actor, member_id)
    if member.status == MemberStatus.left.value:
        raise Conflict("this member has left the cooperative", code="member-left")
    if session.execute(select(col(UserAccount.id)).where(col(UserAccount.member_id) == member_id)).first():
        raise Conflict("this member has set a password already", code="account-exists")
    return _issue_invitation(session, actor, member, auth.invitation_hours, now)


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
    choices_service.end_membership(session, actor, member_id, now)
    proxies_service.end_for_leaver(session, actor, appointments, member_id, now)
    return member
