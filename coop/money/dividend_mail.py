"""Telling members of their dividend once a distribution has committed.

Every member with a share (not donated) who has not switched dividend messages off gets one
message: the amount, the period, and a link to their statement page. The messages are
written by the mail worker's schedule (:func:`tell_committed`), once per distribution, in a
transaction of its own after the commit: a nation's distribution commits without writing
millions of messages while it holds the writers' lock, and a commit that fails leaves
nothing to send. One statement writes them all and never loads a member.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, cast, exists, literal, select
from sqlmodel import Session, col

from coop.mail import outbox, schedule
from coop.mail.models import MailKind, MailRun, MessageSettings
from coop.mail.queries import wants
from coop.members.models import Member
from coop.money.models import Distribution, DistributionMember
from coop.settings import Settings

KIND = "dividend"
"""The scheduled pass's kind; its key names the distribution (:func:`key`)."""
KEY_PREFIX = "distribution:"


def key(distribution_id: int) -> str:
    return f"{KEY_PREFIX}{distribution_id}"


def tell_members(session: Session, distribution: Distribution, now: datetime) -> int:
    """Write the distribution's messages; how many were written."""
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
    return outbox.enqueue_selected(session, MailKind.dividend, selection, now)


def tell_committed(session: Session, settings: Settings, now: datetime) -> None:
    """The scheduled pass: tell the members of every committed distribution whose members
    have not been told, oldest first, each once (:func:`coop.mail.schedule.begin`)."""
    del settings
    told = exists().where(
        col(MailRun.kind) == KIND, col(MailRun.key) == literal(KEY_PREFIX) + cast(col(Distribution.id), String)
    )
    waiting = session.execute(
        select(Distribution).where(col(Distribution.committed_at).is_not(None), ~told).order_by(col(Distribution.id))
    ).scalars()
    for distribution in list(waiting):
        assert distribution.id is not None
        run = schedule.begin(session, KIND, key(distribution.id), None, now)
        if run is not None:
            run.messages = tell_members(session, distribution, now)


def tell_nobody(session: Session, distribution_id: int, now: datetime) -> None:
    """Record the distribution's members as told without a message (the demo's members are
    made up: there is nobody to tell)."""
    schedule.begin(session, KIND, key(distribution_id), None, now)


PASSES: tuple[schedule.MailPass, ...] = (tell_committed,)
"""This domain's scheduled passes (see :mod:`coop.mail.schedule`)."""
