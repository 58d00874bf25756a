"""Pages: the open votes a member may cast, and the board's proposals with their tallies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from coop.auth.policy import Actor, Permission, has
from coop.deps import ID_MAX, Now, ReadSession, WriteSession
from coop.governance import ballot, voting
from coop.portal import web
from coop.portal.deps import CSRF, AnyViewer, PageActor, Viewer, back_to, page_require, viewer_with

router = APIRouter(include_in_schema=False)
ProposalId = Annotated[int, Path(ge=1, le=ID_MAX)]


@router.get("/me/votes", response_class=HTMLResponse)
def votes_page(request: Request, viewer: AnyViewer, session: ReadSession, now: Now) -> Response:
    who = viewer.actor
    may_vote = has(who, Permission.vote)
    ballots = ballot.open_for(session, who.member_id or 0, now) if may_vote else []
    proposals = [(b, ballot.in_words(b, viewer.lang)) for b in ballots]
    closed = [(c, ballot.closed_in_words(c, viewer.lang)) for c in ballot.closed_for(session, who.member_id or 0)]
    return web.render(request, "votes.html", who, viewer.lang, proposals=proposals, may_vote=may_vote, closed=closed)


@router.post("/me/votes/{proposal_id}", dependencies=[CSRF, back_to("/me/votes")])
def cast_vote(
    who: PageActor,
    session: WriteSession,
    now: Now,
    proposal_id: ProposalId,
    vote: Annotated[str, Form(pattern="^(yes|no|abstain)$")],
) -> Response:
    already = voting.my_vote(session, proposal_id, who.member_id) is not None
    voting.cast(session, who, proposal_id, voting.Choice(vote), None, already, now)
    return web.redirect("/me/votes?saved=1")


@router.get("/board/proposals", response_class=HTMLResponse)
def proposals_page(
    request: Request, viewer: Annotated[Viewer, viewer_with(Permission.run_votes)], session: ReadSession, now: Now
) -> Response:
    proposals = [
        {
            "id": p.id,
            "title": p.title,
            "closes_at": p.closes_at,
            "status": voting.status(p, now).value,
            "tally": (p.yes, p.no, p.abstain, p.electorate) if p.closed_at else None,
        }
        for p in voting.listing(session)
    ]
    return web.render(request, "board_proposals.html", viewer.actor, viewer.lang, proposals=proposals)


@router.post("/board/proposals/{proposal_id}/close", dependencies=[CSRF, back_to("/board/proposals")])
def close_proposal(
    who: Annotated[Actor, Depends(page_require(Permission.run_votes))],
    session: WriteSession,
    now: Now,
    proposal_id: ProposalId,
) -> Response:
    voting.close(session, who, proposal_id, now)
    return web.redirect("/board/proposals?saved=1")
