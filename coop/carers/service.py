"""Carers: finding or registering the carer a member appoints, their proxy-only login and
the invitation that lets them set its password.

A carer is known by their email address: appointing someone by an address a carer already
has reuses that carer (their name and language as first given stay; the carer may be
corrected later). A new carer gets a login at once, with a password nobody knows, and a
single-use link to set one (the password-reset machinery, valid as long as a member's
invitation), in a message that says who asked and what a carer may do.

An address that already opens a member's or a board user's login is refused, and said so:
one login per address, and a member is appointed by their member number instead. The
member who asks learns only that the address has a login here, not whose it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from coop.auth.models import PasswordReset, UserAccount
from coop.auth.policy import Actor, Role
from coop.auth.secrets import new_invitation_token, sha256_hex
from coop.auth.service import create_account, normalise_email
from coop.carers.models import Carer
from coop.errors import Conflict
from coop.i18n import Language
from coop.mail import outbox
from coop.mail.models import MailKind
from coop.settings import AuthSettings
from ledger import log


@dataclass(frozen=True, slots=True)
class NewCarer:
    """Whom a member appoints when their proxy is not a member."""

    name: str
    email: str
    language: Language


@dataclass(frozen=True, slots=True)
class Found:
    carer: Carer
    account: UserAccount
    token: str | None
    """The link's token when the carer is new (their invitation), else None."""


def find_or_register(session: Session, actor: Actor, auth: AuthSettings, new: NewCarer, now: datetime) -> Found:
    """The carer with this address, or a new one with a login and a link to set its password
    (``carer.registered``, naming them by id only, and ``account.created``)."""
    email = normalise_email(new.email)
    carer = session.execute(select(Carer).where(col(Carer.email) == email)).scalar_one_or_none()
    if carer is not None:
        account = session.execute(select(UserAccount).where(col(UserAccount.carer_id) == carer.id)).scalar_one()
        return Found(carer, account, None)
    if session.execute(select(col(UserAccount.id)).where(col(UserAccount.email) == email)).first():
        raise Conflict(
            "this address already opens a login of the cooperative; appoint a member by their member number",
            code="carer-email-taken",
            field="carer.email",
        )
    carer = Carer(name=new.name.strip(), email=email, language=new.language.value, created_at=now)
    session.add(carer)
    session.flush()
    log.append(
        session, "carer.registered", actor.ledger_name, f"carer:{carer.id}", {"language": carer.language}, at=now
    )
    account = create_account(
        session, actor, auth, email, new_invitation_token(), Role.carer, None, carer_id=carer.id, now=now
    )
    token = new_invitation_token()
    assert account.id is not None
    session.add(
        PasswordReset(
            user_id=account.id,
            token_hash=sha256_hex(token),
            created_at=now,
            expires_at=now + timedelta(hours=auth.invitation_hours),
        )
    )
    session.flush()
    return Found(carer, account, token)


def tell(
    session: Session, carer_id: int, kind: MailKind, context: dict[str, outbox.ContextValue], now: datetime
) -> None:
    """A message to the carer, in their language."""
    carer = session.get(Carer, carer_id)
    assert carer is not None
    outbox.enqueue(
        session, to=carer.email, kind=kind, language=carer.language, context={"name": carer.name, **context}, now=now
    )


def name_of(session: Session, carer_id: int) -> str:
    """The carer's name, for the member who appointed them (and nobody else)."""
    carer = session.get(Carer, carer_id)
    assert carer is not None
    return carer.name
