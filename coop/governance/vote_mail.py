"""Telling members about votes: when a proposal is opened (what it is, when voting opens and
closes), 48 hours before it closes (to those who have not voted yet), and when it is closed
(the outcome and the count).

Every member who is in the cooperative when the message is written and has not switched vote
messages off gets one; members who left get none. The opening and the result are written in
the proposal's own transaction; the reminder by the mail worker's schedule
(:func:`remind_closing`), once per proposal. Each is one statement that never loads a member
(a cooperative of millions).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import String, literal, select
from sqlmodel import Session, col

from coop.governance.models import Proposal, Vote
from coop.mail import outbox, schedule
from coop.mail.models import MailKind, MessageSettings
from coop.mail.queries import wants
from coop.members.models import Member, MemberStatus
from coop.settings import Settings

REMINDER = timedelta(hours=48)
"""How long before a vote closes the members who have not voted are reminded."""


def _tell(session: Session, kind: MailKind, context: Mapping[str, object], now: datetime) -> int:
    selection = (
        select(col(Member.id), col(Member.email), col(Member.language), literal(json.dumps(context), String))
        .select_from(Member)
        .outerjoin(MessageSettings, col(MessageSettings.member_id) == col(Member.id))
        .where(
            col(Member.status) == MemberStatus.active.value,
            wants(col(MessageSettings.votes)),
        )
    )
    return outbox.enqueue_selected(session, kind, selection, now)


def tell_opened(session: Session, proposal: Proposal, now: datetime) -> None:
    context = {
        "title": proposal.title,
        "opens": proposal.opens_at.isoformat(),
        "closes": proposal.closes_at.isoformat(),
    }
    _tell(session, MailKind.vote_opened, context, now)


def tell_result(session: Session, proposal: Proposal, now: datetime) -> None:
    context = {
        "title": proposal.title,
        "adopted": proposal.outcome == "adopted",
        "yes": proposal.yes,
        "no": proposal.no,
        "abstain": proposal.abstain,
        "electorate": proposal.electorate,
    }
    _tell(session, MailKind.vote_result, context, now)


def remind_closing(session: Session, settings: Settings, now: datetime) -> None:
    """The scheduled pass: for each proposal that closes within 48 hours (and whose window is
    longer than that), once, remind the members who could vote and have not, neither
    themselves nor through their proxy."""
    del settings
    proposals = session.execute(
        select(Proposal).where(
            col(Proposal.closed_at).is_(None),
            col(Proposal.opens_at) <= now,
            col(Proposal.closes_at) > now,
            col(Proposal.closes_at) <= now + REMINDER,
        )
    ).scalars()
    for proposal in list(proposals):
        if proposal.closes_at - proposal.opens_at <= REMINDER:
            continue  # the opening message said already that it closes soon
        run = schedule.begin(session, MailKind.vote_closing.value, str(proposal.id), None, now)
        if run is None:
            continue
        voted = select(col(Vote.member_id)).where(col(Vote.proposal_id) == proposal.id)
        selection = (
            select(
                col(Member.id),
                col(Member.email),
                col(Member.language),
                literal(json.dumps({"title": proposal.title, "closes": proposal.closes_at.isoformat()}), String),
            )
            .select_from(Member)
            .outerjoin(MessageSettings, col(MessageSettings.member_id) == col(Member.id))
            .where(
                col(Member.status) == MemberStatus.active.value,
                col(Member.admitted_at) <= proposal.opens_at,
                wants(col(MessageSettings.votes)),
                col(Member.id).not_in(voted),
            )
        )
        run.messages = outbox.enqueue_selected(session, MailKind.vote_closing, selection, now)


PASSES: tuple[schedule.MailPass, ...] = (remind_closing,)
"""This domain's scheduled passes (see :mod:`coop.mail.schedule`)."""
