"""Admitting members, inviting them to set a password (by mail, through the outbox), reading
and leaving.

Personal data (name, email) stays in the member table; the ledger of record names a
member only by id and number, so it never has to be rewritten to forget a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlmodel import Session, col

from coop.auth import service as auth_service
from coop.auth.models import UserAccount
from coop.auth.policy import Actor, can_manage_member
from coop.auth.secrets import new_invitation_token, sha256_hex
from coop.auth.service import accept_invitation as accept_invitation  # the accounts' own; admitting invites
from coop.choices import service as choices_service
from coop.errors import Conflict, NotFound
from coop.i18n import Language, local_time
from coop.mail import outbox
from coop.mail.models import MailKind
from coop.members.models import Invitation, Member, MemberStatus, member_number
from coop.members.queries import get_for, taken
from coop.proxies import service as proxies_service
from coop.settings import AuthSettings
from ledger import log


def subject(member_id: int) -> str:
    return f"member:{member_id}"


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    invitation_id: int
    token: str
    """Shown once: the member sets a password with it (only its hash is stored)."""
    expires_at: datetime


def _withdraw_invitations(session: Session, member_id: int, at: datetime) -> None:
    for old in session.execute(
        select(Invitation).where(
            col(Invitation.member_id) == member_id,
            col(Invitation.used_at).is_(None),
            col(Invitation.withdrawn_at).is_(None),
        )
    ).scalars():
        old.withdrawn_at = at


def _invite(
    session: Session, actor: Actor, invitees: Sequence[tuple[int, str, str, str]], hours: int, now: datetime
) -> list[IssuedInvitation]:
    """A new one-time invitation for each (member id, name, email, language), valid ``hours``,
    mailed through the outbox; a ``member.invited`` event each."""
    if not invitees:
        return []
    tokens = [new_invitation_token() for _ in invitees]
    expires = now + timedelta(hours=hours)
    rows = [
        {"member_id": member_id, "token_hash": sha256_hex(token), "created_at": now, "expires_at": expires}
        for (member_id, *_), token in zip(invitees, tokens, strict=True)
    ]
    table = Invitation.__table__  # type: ignore[attr-defined]
    inserted = session.connection().execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    ids = list(inserted.scalars())
    until = {lang: local_time(expires, lang) for lang in {language for *_, language in invitees}}
    outbox.enqueue_many(
        session,
        [
            outbox.Mail(
                to=email,
                kind=MailKind.invitation,
                language=language,
                context={"name": name, "token": token, "until": until[language]},
                member_id=member_id,
            )
            for (member_id, name, email, language), token in zip(invitees, tokens, strict=True)
        ],
        now,
    )
    payloads = ({"invitation_id": i, "expires_at": expires.isoformat()} for i in ids)
    log.append_many(
        session,
        [
            log.NewEvent("member.invited", actor.ledger_name, subject(member_id), payload, now)
            for (member_id, *_), payload in zip(invitees, payloads, strict=True)
        ],
    )
    return [IssuedInvitation(i, token, expires) for i, token in zip(ids, tokens, strict=True)]


@dataclass(frozen=True, slots=True)
class NewMember:
    name: str
    email: str
    language: Language
    external_ref: str | None = None
    """Their number in the membership administration, if any."""


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
    """A new member, with their first choices and an invitation to set a password."""
    admitted = admit_many(session, actor, auth, [NewMember(name, email, language, external_ref)], now)[0]
    member = session.get(Member, admitted.member_id)
    assert member is not None
    return member, admitted.invitation


@dataclass(frozen=True, slots=True)
class Admitted:
    member_id: int
    number: str
    invitation: IssuedInvitation


def admit_many(
    session: Session, actor: Actor, auth: AuthSettings, new: Sequence[NewMember], now: datetime
) -> list[Admitted]:
    """Admit each of ``new`` (distinct emails and references), as :func:`admit` does one, in
    a few statements: the way a file of thousands is admitted. Refused as a whole (409) when
    one of them is a member already."""
    emails = [auth_service.normalise_email(n.email) for n in new]
    references = [n.external_ref for n in new if n.external_ref]
    taken_emails, taken_refs = taken(session, emails, references)
    if taken_emails:
        raise Conflict("a member with this email exists already", code="member-exists")
    if taken_refs:
        raise Conflict("a member with this reference exists already", code="reference-exists")
    if not new:
        return []
    rows = [
        {
            "name": n.name.strip(),
            "email": email,
            "language": n.language.value,
            "status": MemberStatus.active.value,
            "admitted_at": now,
            "left_at": None,
            "external_ref": n.external_ref or None,
        }
        for n, email in zip(new, emails, strict=True)
    ]
    table = Member.__table__  # type: ignore[attr-defined]
    inserted = session.connection().execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    ids = list(inserted.scalars())
    log.append_many(
        session,
        [
            log.NewEvent(
                "member.admitted",
                actor.ledger_name,
                subject(i),
                {"number": member_number(i), "language": row["language"]},
                now,
            )
            for i, row in zip(ids, rows, strict=True)
        ],
    )
    choices_service.start(session, actor, ids, now)
    invitees = [
        (i, str(row["name"]), str(row["email"]), str(row["language"])) for i, row in zip(ids, rows, strict=True)
    ]
    invitations = _invite(session, actor, invitees, auth.invitation_hours, now)
    return [Admitted(i, member_number(i), inv) for i, inv in zip(ids, invitations, strict=True)]


def reinvite(session: Session, actor: Actor, auth: AuthSettings, member_id: int, now: datetime) -> IssuedInvitation:
    member = get_for(session, actor, member_id)
    if member.status == MemberStatus.left.value:
        raise Conflict("this member has left the cooperative", code="member-left")
    if session.execute(select(col(UserAccount.id)).where(col(UserAccount.member_id) == member_id)).first():
        raise Conflict("this member has set a password already", code="account-exists")
    _withdraw_invitations(session, member_id, now)  # the old link stops working
    outbox.withdraw(session, member_id=member_id, kind=MailKind.invitation)  # and its mail, if still waiting
    return _invite(
        session, actor, [(member_id, member.name, member.email, member.language)], auth.invitation_hours, now
    )[0]


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
