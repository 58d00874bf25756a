"""Forgotten passwords: a single-use, short-lived link by mail, and setting a new password with it.

Asking gives the same answer whether or not the address belongs to an account (no one
learns who has one); only an account's own mailbox receives the link. At most
``COOP_MAIL_RESET_MAX_PER_HOUR`` links go to one account per hour; further asks are quietly
not sent, so nobody can fill a member's mailbox. Asking is operational state
(``password_reset``, hashes only); setting the new password is a ledger event, without the
email.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from coop.auth.models import PasswordReset, UserAccount
from coop.auth.secrets import new_invitation_token, sha256_hex
from coop.auth.service import check_password_rules, end_logins, hash_password, normalise_email
from coop.errors import Gone, Invalid
from coop.i18n import Language
from coop.mail import outbox
from coop.mail.models import MailKind
from coop.members.models import Member
from coop.settings import AuthSettings, MailSettings
from ledger import log


def request_reset(session: Session, mail: MailSettings, email: str, language: Language, now: datetime) -> None:
    """Mail a reset link to the account with this address, if there is one and it may have
    another link now. ``language`` is the asker's, for a board user (a member gets theirs)."""
    user = session.execute(
        select(UserAccount).where(col(UserAccount.email) == normalise_email(email))
    ).scalar_one_or_none()
    if user is None or user.disabled_at is not None:
        return
    assert user.id is not None
    recent = session.execute(
        select(func.count())
        .select_from(PasswordReset)
        .where(col(PasswordReset.user_id) == user.id, col(PasswordReset.created_at) > now - timedelta(hours=1))
    ).scalar_one()
    if recent >= mail.reset_max_per_hour:
        return
    token = new_invitation_token()
    session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=sha256_hex(token),
            created_at=now,
            expires_at=now + timedelta(minutes=mail.reset_minutes),
        )
    )
    member = session.get(Member, user.member_id) if user.member_id is not None else None
    outbox.enqueue(
        session,
        to=user.email,
        kind=MailKind.password_reset,
        language=member.language if member is not None else language.value,
        context={"token": token, "minutes": mail.reset_minutes},
        now=now,
        member_id=user.member_id,
    )


def reset_password(session: Session, auth: AuthSettings, token: str, password: str, now: datetime) -> UserAccount:
    """Set the password with a reset link: the link and every other open one of the account
    are used up, and every login of the account ends."""
    check_password_rules(password)
    reset = session.execute(
        select(PasswordReset).where(col(PasswordReset.token_hash) == sha256_hex(token))
    ).scalar_one_or_none()
    if reset is None:
        raise Invalid("this link is not valid", code="reset-invalid", field="token")
    if reset.used_at is not None:
        raise Gone("this link has been used already; ask for a new one", code="reset-used")
    if reset.expires_at <= now:
        raise Gone("this link has expired; ask for a new one", code="reset-expired")
    user = session.get(UserAccount, reset.user_id)
    if user is None or user.disabled_at is not None:
        raise Invalid("this link is not valid", code="reset-invalid", field="token")
    user.password_hash = hash_password(auth, password)
    session.execute(
        update(PasswordReset)
        .where(col(PasswordReset.user_id) == reset.user_id, col(PasswordReset.used_at).is_(None))
        .values(used_at=now),
        execution_options={"synchronize_session": "fetch"},
    )
    session.flush()
    end_logins(session, reset.user_id)
    log.append(session, "account.password-reset", f"user:{reset.user_id}", f"user:{reset.user_id}", {}, at=now)
    return user
