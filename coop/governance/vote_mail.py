"""Telling members about votes: when a proposal is opened (what it is, when voting opens and
closes) and when it is closed (the outcome and the count).

Every member who is in the cooperative when the message is written and has not switched vote
messages off gets one; members who left get none. The messages are written in the proposal's
own transaction, by one statement that never loads a member (a cooperative of millions).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import String, literal, select
from sqlmodel import Session, col

from coop.governance.models import Proposal
from coop.mail import outbox
from coop.mail.models import MailKind, MessageSettings
from coop.mail.queries import wants
from coop.members.models import Member, MemberStatus


def _tell(session: Session, kind: MailKind, context: Mapping[str, object], now: datetime) -> None:
    selection = (
        select(col(Member.id), col(Member.email), col(Member.language), literal(json.dumps(context), String))
        .select_from(Member)
        .outerjoin(MessageSettings, col(MessageSettings.member_id) == col(Member.id))
        .where(
            col(Member.status) == MemberStatus.active.value,
            wants(col(MessageSettings.votes)),
        )
    )
    outbox.enqueue_selected(session, kind, selection, now)


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
