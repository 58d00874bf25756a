"""Telling members of their dividend when a distribution commits.

Every member with a share (not donated) who has not switched dividend messages off gets one
message: the amount, the period, and a link to their statement page. The messages are
written in the distribution's own transaction, by one statement that never loads a member.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, cast, literal, select
from sqlmodel import Session, col

from coop.mail import outbox
from coop.mail.models import MailKind, MessageSettings
from coop.mail.queries import wants
from coop.members.models import Member
from coop.money.models import Distribution, DistributionMember


def tell_members(session: Session, distribution: Distribution, now: datetime) -> None:
    period = f'"start": "{distribution.period_start.isoformat()}", "end": "{distribution.period_end.isoformat()}"'
    context = (
        literal('{"cents": ', String) + cast(col(DistributionMember.cents), String) + literal(f", {period}}}", String)
    )
    selection = (
        select(col(Member.id), col(Member.email), col(Member.language), context)
        .select_from(DistributionMember)
        .join(Member, col(Member.id) == col(DistributionMember.member_id))
        .outerjoin(MessageSettings, col(MessageSettings.member_id) == col(DistributionMember.member_id))
        .where(
            col(DistributionMember.distribution_id) == distribution.id,
            col(DistributionMember.cents) > 0,
            col(DistributionMember.donated).is_(False),
            wants(col(MessageSettings.dividend)),
        )
    )
    outbox.enqueue_selected(session, MailKind.dividend, selection, now)
