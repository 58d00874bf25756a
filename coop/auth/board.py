"""The board's own accounts: a board user adds another (who is mailed a link to set a password)
and removes one; the last board user cannot be removed.

Adding makes the login (``account.created``, role board) and a single-use link valid
``COOP_AUTH_INVITATION_HOURS``, mailed to the new board user in the language of the page it
was asked on; following it sets the password as a reset does (``account.password-reset``).
Removing disables the login for good (``account.disabled``) and ends its login tokens; the
account stays, as every account does, because the ledger of record names it. Both are
writes like any other, so they take the writers' lock: two board users removing each other
at once cannot leave the cooperative without a board.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from coop.auth.models import PasswordReset, UserAccount
from coop.auth.policy import Actor, Permission, Role, has
from coop.auth.secrets import new_invitation_token, sha256_hex
from coop.auth.service import create_account, end_logins
from coop.errors import Conflict, Forbidden, NotFound
from coop.i18n import Language
from coop.mail import outbox
from coop.mail.models import MailKind
from coop.settings import AuthSettings
from ledger import log


def _may_manage(actor: Actor) -> None:
    if not has(actor, Permission.manage_board):
        raise Forbidden("only the board adds and removes board users", code="forbidden")


def members(session: Session) -> list[UserAccount]:
    """The board's accounts, those removed included, in the order they were made."""
    return list(
        session.execute(
            select(UserAccount).where(col(UserAccount.role) == Role.board.value).order_by(col(UserAccount.id))
        ).scalars()
    )


def add(
    session: Session, actor: Actor, auth: AuthSettings, email: str, language: Language, now: datetime
) -> UserAccount:
    """A new board user, mailed a link to set their password (the link works once)."""
    _may_manage(actor)
    unusable = new_invitation_token()  # nobody knows it: the new user sets their own by the link
    user = create_account(session, actor, auth, email, unusable, Role.board, None, now=now)
    assert user.id is not None
    token = new_invitation_token()
    session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=sha256_hex(token),
            created_at=now,
            expires_at=now + timedelta(hours=auth.invitation_hours),
        )
    )
    outbox.enqueue(
        session,
        to=user.email,
        kind=MailKind.board_welcome,
        language=language.value,
        context={"token": token, "hours": auth.invitation_hours},
        now=now,
    )
    return user


def remove(session: Session, actor: Actor, user_id: int, now: datetime) -> UserAccount:
    """The board user's login, disabled now; removing again changes nothing. The last board
    user who can log in is not removed (409 ``last-board-user``)."""
    _may_manage(actor)
    user = session.get(UserAccount, user_id)
    if user is None or user.role != Role.board.value:
        raise NotFound(f"no board user {user_id}", code="board-user-not-found")
    if user.disabled_at is not None:
        return user
    others = session.execute(
        select(func.count()).where(
            col(UserAccount.role) == Role.board.value,
            col(UserAccount.disabled_at).is_(None),
            col(UserAccount.id) != user_id,
        )
    ).scalar_one()
    if not others:
        raise Conflict("the cooperative keeps at least one board user who can log in", code="last-board-user")
    user.disabled_at = now
    session.flush()
    end_logins(session, user_id)
    log.append(session, "account.disabled", actor.ledger_name, f"user:{user_id}", {}, at=now)
    return user
