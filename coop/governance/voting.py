"""Proposals and votes: the board puts a new mandate or benefit policy to the vote; members
vote once (and may change their vote) while the window is open; closing tallies and, when
quorum and majority are met, adopts the document from the moment of closing.

* The electorate is everyone who was a member when voting opened; they may vote while
  they are members.
* Quorum: votes cast (abstentions included) are at least ``quorum_pct`` percent of the
  electorate. Majority: more than ``majority_pct`` percent of the yes and no votes are yes.
* Tallies are shown once a proposal is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from coop.auth.policy import Actor, Denied, can_vote
from coop.errors import Conflict, Forbidden, Invalid, NotFound
from coop.governance import service as documents
from coop.governance import vote_mail
from coop.governance.documents import DocumentKind
from coop.governance.models import Proposal, Vote
from coop.members.models import Member
from coop.proxies.models import ProxyAppointment
from coop.proxies.queries import by_proxy, valid_at
from ledger import canonical, log


class Status(StrEnum):
    """Where a proposal stands: before, during or after its voting window, and how it ended."""

    scheduled = "scheduled"
    open = "open"
    awaiting_close = "awaiting-close"
    adopted = "adopted"
    rejected = "rejected"


def status(proposal: Proposal, now: datetime) -> Status:
    """The proposal's status at ``now``: the one place the API and the portal learn it from."""
    if proposal.outcome:
        return Status(proposal.outcome)
    if now < proposal.opens_at:
        return Status.scheduled
    return Status.open if now < proposal.closes_at else Status.awaiting_close


class Choice(StrEnum):
    yes = "yes"
    no = "no"
    abstain = "abstain"


@dataclass(frozen=True, slots=True)
class NewProposal:
    title: str
    kind: DocumentKind
    body: dict[str, Any]
    opens_at: datetime
    closes_at: datetime
    quorum_pct: int
    majority_pct: int


def _subject(p: Proposal) -> str:
    return f"proposal:{p.id}"


def open_proposal(session: Session, actor: Actor, new: NewProposal, now: datetime) -> Proposal:
    document = documents.validated(new.kind, new.body)
    if new.closes_at <= new.opens_at:
        raise Invalid("closes_at must come after opens_at", code="invalid-window", field="closes_at")
    if new.closes_at <= now:
        raise Invalid("the voting window must end in the future", code="invalid-window", field="closes_at")
    proposal = Proposal(
        title=new.title,
        kind=new.kind.value,
        body=canonical.dumps(document.model_dump(mode="json")),
        opens_at=new.opens_at,
        closes_at=new.closes_at,
        quorum_pct=new.quorum_pct,
        majority_pct=new.majority_pct,
        created_by=actor.ledger_name,
        created_at=now,
    )
    session.add(proposal)
    session.flush()
    log.append(
        session,
        "proposal.opened",
        actor.ledger_name,
        _subject(proposal),
        {
            "title": proposal.title,
            "kind": proposal.kind,
            "opens_at": proposal.opens_at.isoformat(),
            "closes_at": proposal.closes_at.isoformat(),
            "quorum_pct": proposal.quorum_pct,
            "majority_pct": proposal.majority_pct,
            "body": canonical.loads(proposal.body),
        },
        at=proposal.created_at,
    )
    vote_mail.tell_opened(session, proposal, now)
    return proposal


def get(session: Session, proposal_id: int) -> Proposal:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(f"no proposal {proposal_id}", code="proposal-not-found")
    return proposal


def listing(session: Session) -> list[Proposal]:
    return list(session.execute(select(Proposal).order_by(col(Proposal.id).desc())).scalars())


def _member_at(session: Session, member_id: int, at: datetime) -> bool:
    member = session.get(Member, member_id)
    return member is not None and member.admitted_at <= at and (member.left_at is None or member.left_at > at)


def _voting_proxy(session: Session, principal_id: int, actor: Actor, now: datetime) -> bool:
    """Whether the actor (a member or a carer) holds an appointment of the principal with voting."""
    count: int = session.execute(
        select(func.count()).where(
            col(ProxyAppointment.principal_id) == principal_id,
            by_proxy(actor.member_id, actor.carer_id),
            col(ProxyAppointment.voting).is_(True),
            valid_at(now),
        )
    ).scalar_one()
    return count > 0


def cast(
    session: Session,
    actor: Actor,
    proposal_id: int,
    choice: Choice,
    on_behalf_of: int | None,
    change: bool,
    now: datetime,
) -> tuple[Vote, bool]:
    """Record a vote; returns it and whether anything was written. A first vote via
    ``change=False``; the same vote again is a harmless retry; another vote needs ``change``."""
    proposal = get(session, proposal_id)
    member_id = on_behalf_of or actor.member_id
    if member_id is None:
        raise Forbidden("only members vote", code="not-a-voter")
    decision = can_vote(actor, member_id, on_behalf_of is not None and _voting_proxy(session, member_id, actor, now))
    if isinstance(decision, Denied):
        raise Forbidden(decision.reason, code=decision.code)
    if now < proposal.opens_at or proposal.closed_at is not None:
        raise Conflict(
            "voting has not opened yet" if now < proposal.opens_at else "voting is closed", code="voting-closed"
        )
    if now >= proposal.closes_at:
        raise Conflict("the voting window has ended", code="voting-closed")
    if not _member_at(session, member_id, proposal.opens_at) or not _member_at(session, member_id, now):
        raise Forbidden("only those who were members when voting opened, and still are, vote", code="not-a-voter")
    existing = session.execute(
        select(Vote).where(col(Vote.proposal_id) == proposal_id, col(Vote.member_id) == member_id)
    ).scalar_one_or_none()
    if existing is not None and existing.vote == choice.value:
        return existing, False
    if existing is not None and not change:
        raise Conflict(
            f"this member voted {existing.vote} already; change a vote with PUT .../votes/mine",
            code="already-voted",
            vote=existing.vote,
        )
    if existing is None and change:
        raise NotFound("there is no vote to change yet; cast one with POST", code="no-vote")
    proxy_id = actor.member_id if on_behalf_of else None
    carer_id = actor.carer_id if on_behalf_of else None
    if existing is None:
        existing = Vote(
            proposal_id=proposal_id,
            member_id=member_id,
            vote=choice.value,
            cast_at=now,
            cast_by=actor.ledger_name,
            proxy_member_id=proxy_id,
            proxy_carer_id=carer_id,
        )
        session.add(existing)
    else:
        existing.vote, existing.cast_at, existing.cast_by = choice.value, now, actor.ledger_name
        existing.proxy_member_id, existing.proxy_carer_id = proxy_id, carer_id
    session.flush()
    log.append(
        session,
        "vote.changed" if change else "vote.cast",
        actor.ledger_name,
        _subject(proposal),
        {"member_id": member_id, "vote": choice.value, "proxy_member_id": proxy_id, "proxy_carer_id": carer_id},
        at=now,
    )
    return existing, True


def my_vote(session: Session, proposal_id: int, member_id: int | None) -> str | None:
    if member_id is None:
        return None
    return session.execute(
        select(col(Vote.vote)).where(col(Vote.proposal_id) == proposal_id, col(Vote.member_id) == member_id)
    ).scalar_one_or_none()


def close(session: Session, actor: Actor, proposal_id: int, now: datetime) -> Proposal:
    """Tally and decide. Closing again returns the same result."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(f"no proposal {proposal_id}", code="proposal-not-found")
    if proposal.closed_at is not None:
        return proposal
    if now < proposal.closes_at:
        raise Conflict(f"voting is open until {proposal.closes_at.isoformat()}", code="voting-open")
    counts = dict(
        session.execute(
            select(col(Vote.vote), func.count()).where(col(Vote.proposal_id) == proposal_id).group_by(col(Vote.vote))
        ).all()
    )
    electorate = session.execute(
        select(func.count()).where(
            col(Member.admitted_at) <= proposal.opens_at,
            or_(col(Member.left_at).is_(None), col(Member.left_at) > proposal.opens_at),
        )
    ).scalar_one()
    yes, no, abstain = (int(counts.get(c.value, 0)) for c in Choice)
    quorum = (yes + no + abstain) * 100 >= proposal.quorum_pct * electorate
    majority = yes * 100 > proposal.majority_pct * (yes + no)
    adopted_version = None
    if quorum and majority:
        kind = DocumentKind(proposal.kind)
        adopted_version = documents.record(
            session,
            actor,
            kind,
            documents.validated(kind, canonical.loads(proposal.body)),
            _subject(proposal),
            now,
        ).version
    # every closing field in one UPDATE: the database lets a proposal be closed once
    proposal.closed_at, proposal.electorate = now, int(electorate)
    proposal.yes, proposal.no, proposal.abstain = yes, no, abstain
    proposal.outcome = "adopted" if adopted_version is not None else "rejected"
    proposal.adopted_version = adopted_version
    session.flush()
    log.append(
        session,
        "proposal.closed",
        actor.ledger_name,
        _subject(proposal),
        {
            "outcome": proposal.outcome,
            "electorate": proposal.electorate,
            "yes": yes,
            "no": no,
            "abstain": abstain,
            "quorum_met": quorum,
            "adopted_version": proposal.adopted_version,
        },
        at=now,
    )
    vote_mail.tell_result(session, proposal, now)
    return proposal
