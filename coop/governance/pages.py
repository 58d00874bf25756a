"""Pages: the open votes a member may cast, and the board's proposals with their tallies."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from coop.auth.policy import Actor, Permission, has
from coop.deps import ID_MAX, Now, ReadSession, WriteSession
from coop.errors import Forbidden
from coop.governance import ballot, proposal_form, voting
from coop.governance import queries as documents_queries
from coop.governance import service as documents
from coop.governance.documents import Document, DocumentKind
from coop.i18n import translator
from coop.portal import web
from coop.portal.deps import CSRF, AnyViewer, PageActor, PageForm, Viewer, back_to, page_require, viewer_with

router = APIRouter(include_in_schema=False)
ProposalId = Annotated[int, Path(ge=1, le=ID_MAX)]


@router.get("/me/votes", response_class=HTMLResponse)
def votes_page(request: Request, viewer: AnyViewer, session: ReadSession, now: Now) -> Response:
    who = viewer.actor
    if who.carer_id is not None:  # a carer votes only for a member, on the pages where they act for them
        raise Forbidden("this page is for members", code="not-a-member")
    may_vote = has(who, Permission.vote)
    ballots = ballot.open_for(session, who.member_id or 0, now) if may_vote else []
    proposals = [(b, ballot.in_words(b, viewer.lang)) for b in ballots]
    closed = [(c, ballot.closed_in_words(c, viewer.lang)) for c in ballot.closed_for(session, who.member_id or 0)]
    context: dict[str, Any] = {"proposals": proposals, "may_vote": may_vote, "closed": closed}
    return web.render(request, "votes.html", who, viewer.lang, action="/me/votes", **context)


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


Board = Annotated[Viewer, viewer_with(Permission.run_votes)]
Kind = Annotated[DocumentKind, Query()]


def _proposal_form(
    request: Request, viewer: Viewer, kind: DocumentKind, values: Mapping[str, str], errors: dict[str, str], status: int
) -> Response:
    t = translator(viewer.lang)
    return web.render(
        request,
        "board_proposal_form.html",
        viewer.actor,
        viewer.lang,
        status_code=status,
        kind=kind.value,
        values=values,
        errors={name: t(proposal_form.FIELD_ERRORS[code]) for name, code in errors.items()},
        pairs=proposal_form.pairs(),
        field=proposal_form.rule_field,
        flags=proposal_form.CONDITION_FLAGS,
    )


def _in_force(session: Session, kind: DocumentKind, now: datetime) -> Document | None:
    version = documents_queries.in_force(session, kind, now)
    return None if version is None else version.document


def _sent(form: FormData) -> dict[str, str]:
    """The proposal form's fields as sent (the CSRF token aside)."""
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}


@router.get("/board/proposals/new", response_class=HTMLResponse)
def new_proposal_page(request: Request, viewer: Board, session: ReadSession, now: Now, kind: Kind) -> Response:
    """A new mandate or benefit policy to put to the vote, starting from the version in force."""
    values = proposal_form.filled(kind, _in_force(session, kind, now), now)
    return _proposal_form(request, viewer, kind, values, {}, 200)


@router.post("/board/proposals/preview", response_class=HTMLResponse, dependencies=[CSRF])
def preview_proposal(
    request: Request, viewer: Board, session: ReadSession, now: Now, kind: Kind, form: PageForm
) -> Response:
    """What the proposal would change against the version in force, before it is opened."""
    values = _sent(form)
    read = proposal_form.read(values, kind, now)
    if read.proposal is None:
        return _proposal_form(request, viewer, kind, values, read.errors, 422)
    p = read.proposal
    preview = ballot.Ballot(
        id=0,
        title=p.title,
        kind=kind,
        opens_at=p.opens_at,
        closes_at=p.closes_at,
        quorum_pct=p.quorum_pct,
        majority_pct=p.majority_pct,
        proposed=documents.validated(kind, p.body),
        in_force=_in_force(session, kind, now),
        vote=None,
        voted_by_proxy=None,
    )
    words = ballot.in_words(preview, viewer.lang)
    return web.render(
        request,
        "board_proposal_preview.html",
        viewer.actor,
        viewer.lang,
        kind=kind.value,
        title=p.title,
        words=words,
        values=values,
    )


@router.post("/board/proposals/edit", response_class=HTMLResponse, dependencies=[CSRF])
def edit_proposal(request: Request, viewer: Board, kind: Kind, form: PageForm) -> Response:
    """The form again, as it was sent to the preview, to change it."""
    values = _sent(form)
    return _proposal_form(request, viewer, kind, values, {}, 200)


@router.post("/board/proposals/new", response_class=HTMLResponse, dependencies=[CSRF])
def open_new_proposal(
    request: Request, viewer: Board, session: WriteSession, now: Now, kind: Kind, form: PageForm
) -> Response:
    """Open the vote on the proposal the form describes (after its preview)."""
    values = _sent(form)
    read = proposal_form.read(values, kind, now)
    if read.proposal is None:
        return _proposal_form(request, viewer, kind, values, read.errors, 422)
    voting.open_proposal(session, viewer.actor, read.proposal, now)
    return web.redirect("/board/proposals?saved=1")


@router.post("/board/proposals/{proposal_id}/close", dependencies=[CSRF, back_to("/board/proposals")])
def close_proposal(
    who: Annotated[Actor, Depends(page_require(Permission.run_votes))],
    session: WriteSession,
    now: Now,
    proposal_id: ProposalId,
) -> Response:
    voting.close(session, who, proposal_id, now)
    return web.redirect("/board/proposals?saved=1")
