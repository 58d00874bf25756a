"""Telling the other board members that a request waits for their approval: a message to
each board user who can log in, except the one who asked, in their language (a board user
who is a member: the member's; otherwise Dutch), in the request's own transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from coop.approvals.models import Action, BoardApproval
from coop.approvals.queries import board_names
from coop.auth.models import UserAccount
from coop.i18n import DEFAULT_LANGUAGE
from coop.mail import outbox
from coop.mail.models import MailKind
from coop.members.models import Member


def tell_the_others(session: Session, row: BoardApproval, now: datetime) -> None:
    rows = session.execute(
        select(col(UserAccount.id), col(UserAccount.email), col(Member.language))
        .outerjoin(Member, col(Member.id) == col(UserAccount.member_id))
        .where(col(UserAccount.role) == "board", col(UserAccount.disabled_at).is_(None))
        .order_by(col(UserAccount.id))
    ).all()
    asker = board_names(session, [row.requested_by])[row.requested_by]
    commit = row.action == Action.commit_distribution.value
    context = {
        "what": "commit" if commit else "publish",
        "number": row.distribution_id if commit else row.year,
        "asker": asker,
        "approval": row.id,
    }
    mails = [
        outbox.Mail(email, MailKind.approval_waiting, language or DEFAULT_LANGUAGE.value, context)
        for user_id, email, language in rows
        if f"user:{user_id}" != row.requested_by
    ]
    outbox.enqueue_many(session, mails, now)
