"""HTTP: the mandate and benefit policy in force at any time (public: they are the
cooperative's own rules)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from coop.auth.policy import Actor, Permission
from coop.deps import ID_MAX, CurrentActor, Now, ReadSession, WriteSession, require
from coop.governance import queries, voting
from coop.governance.documents import DocumentKind
from coop.governance.models import Vote
from coop.governance.recorded import recorded
from coop.governance.schemas import (
    BenefitPolicyOut,
    MandateOut,
    ProposalIn,
    ProposalOut,
    RecordedOut,
    VoteIn,
    VoteOut,
    benefit_policy_out,
    mandate_out,
)
from coop.governance.voting import Choice
from coop.openapi import problems
from coop.types import Time

router = APIRouter(tags=["governance"])

ProposalId = Annotated[int, Path(ge=1, le=ID_MAX)]
At = Annotated[Time | None, Query(description="ISO 8601 with offset; default: now")]


@router.get(
    "/mandate",
    response_model=MandateOut,
    summary="The collective mandate in force (public)",
    responses=problems({404: "no-mandate"}),
)
def mandate(session: ReadSession, now: Now, at: At = None) -> MandateOut:
    return mandate_out(queries.require_in_force(session, DocumentKind.mandate, at or now))


@router.get(
    "/benefit-policy",
    response_model=BenefitPolicyOut,
    summary="The benefit policy in force (public)",
    responses=problems({404: "no-benefit-policy"}),
)
def benefit_policy(session: ReadSession, now: Now, at: At = None) -> BenefitPolicyOut:
    return benefit_policy_out(queries.require_in_force(session, DocumentKind.benefit_policy, at or now))


@router.get(
    "/governance/documents/{kind}/{version}",
    response_model=RecordedOut,
    summary="One version of the mandate or the benefit policy, as the ledger of record holds it (public)",
    responses=problems({404: "document-not-found"}),
)
def document(kind: DocumentKind, version: Annotated[int, Path(ge=1, le=ID_MAX)], session: ReadSession) -> RecordedOut:
    return RecordedOut.of(recorded(session, kind, version))


@router.post(
    "/governance/proposals",
    response_model=ProposalOut,
    status_code=201,
    summary="Put a new version to the vote (board)",
)
def open_proposal(
    body: ProposalIn,
    session: WriteSession,
    actor: Annotated[Actor, Depends(require(Permission.run_votes))],
    now: Now,
) -> ProposalOut:
    new = voting.NewProposal(
        body.title, body.kind, body.body, body.opens_at, body.closes_at, body.quorum_pct, body.majority_pct
    )
    return ProposalOut.of(voting.open_proposal(session, actor, new, now), now)


@router.get("/governance/proposals", response_model=list[ProposalOut], summary="Proposals and results (members, board)")
def proposals(
    session: ReadSession, actor: Annotated[Actor, Depends(require(Permission.read_proposals))], now: Now
) -> list[ProposalOut]:
    return [
        ProposalOut.of(p, now, voting.my_vote(session, p.id or 0, actor.member_id)) for p in voting.listing(session)
    ]


@router.get("/governance/proposals/{proposal_id}", response_model=ProposalOut, summary="One proposal (members, board)")
def proposal(
    proposal_id: ProposalId,
    session: ReadSession,
    actor: Annotated[Actor, Depends(require(Permission.read_proposals))],
    now: Now,
) -> ProposalOut:
    return ProposalOut.of(voting.get(session, proposal_id), now, voting.my_vote(session, proposal_id, actor.member_id))


def _vote_out(v: Vote) -> VoteOut:
    return VoteOut(
        proposal_id=v.proposal_id,
        member_id=v.member_id,
        vote=Choice(v.vote),
        cast_at=v.cast_at,
        proxy_member_id=v.proxy_member_id,
    )


@router.post(
    "/governance/proposals/{proposal_id}/votes",
    response_model=VoteOut,
    status_code=201,
    summary="Vote once while the window is open (a member, or their proxy with voting rights)",
    responses=problems({409: "voting-closed, already-voted"}),
)
def vote(
    proposal_id: ProposalId, body: VoteIn, session: WriteSession, actor: CurrentActor, response: Response, now: Now
) -> VoteOut:
    cast, written = voting.cast(session, actor, proposal_id, body.vote, body.on_behalf_of, False, now)
    if not written:
        response.status_code = 200
    return _vote_out(cast)


@router.put(
    "/governance/proposals/{proposal_id}/votes/mine",
    response_model=VoteOut,
    summary="Change a vote while the window is open",
    responses=problems({409: "voting-closed"}),
)
def change_vote(proposal_id: ProposalId, body: VoteIn, session: WriteSession, actor: CurrentActor, now: Now) -> VoteOut:
    return _vote_out(voting.cast(session, actor, proposal_id, body.vote, body.on_behalf_of, True, now)[0])


@router.post(
    "/governance/proposals/{proposal_id}/close",
    response_model=ProposalOut,
    summary="Tally after the window and adopt or reject (board)",
    responses=problems({409: "voting-open"}),
)
def close(
    proposal_id: ProposalId,
    session: WriteSession,
    actor: Annotated[Actor, Depends(require(Permission.run_votes))],
    now: Now,
) -> ProposalOut:
    return ProposalOut.of(voting.close(session, actor, proposal_id, now), now)
