"""Telling a board user when the two-factor sign-in of their account changes: switched on or
off, new recovery codes, a recovery code used to sign in, or the operator's reset. A message
nobody can turn off, to the account's own address, in the same transaction as the change, so
that someone who took over a password cannot change the second factor unnoticed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlmodel import Session, col

from coop.auth.models import UserAccount
from coop.i18n import DEFAULT_LANGUAGE
from coop.mail import outbox
from coop.mail.models import MailKind
from coop.members.models import Member


class Change(StrEnum):
    enabled = "enabled"
    disabled = "disabled"
    codes_renewed = "codes-renewed"
    recovery_code_used = "recovery-code-used"
    reset = "reset"


def tell(session: Session, user_id: int, change: Change, now: datetime) -> None:
    """Put the notice in the outbox, in the language of the member the board user is, else Dutch."""
    email, language = session.execute(
        select(col(UserAccount.email), col(Member.language))
        .outerjoin(Member, col(Member.id) == col(UserAccount.member_id))
        .where(col(UserAccount.id) == user_id)
    ).one()
    outbox.enqueue(
        session,
        to=email,
        kind=MailKind.two_factor_changed,
        language=language or DEFAULT_LANGUAGE.value,
        context={"change": change.value, "at": now.isoformat()},
        now=now,
    )
