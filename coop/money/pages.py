"""Pages: a member's dividends with how they were derived, and the board's distributions
(draft, review, commit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from coop.auth.policy import Actor, Permission
from coop.deps import ID_MAX, Now, ReadSession, WriteSession
from coop.money import distributions, periods, queries
from coop.permits import queries as permit_queries
from coop.portal import web
from coop.portal.deps import CSRF, AnyViewer, PageMember, Viewer, back_to, page_require, viewer_with
from coop.types import Day
from reports.texts import euros

router = APIRouter(include_in_schema=False)
DistributionId = Annotated[int, Path(ge=1, le=ID_MAX)]
Treasurer = Annotated[Actor, Depends(page_require(Permission.manage_money))]
BoardViewer = Annotated[Viewer, viewer_with(Permission.manage_money)]


@router.get("/me/dividends", response_class=HTMLResponse)
def dividends_page(request: Request, viewer: AnyViewer, member: PageMember, session: ReadSession, now: Now) -> Response:
    assert member.id is not None
    balance, paid = distributions.member_account(session, member.id)
    numbers = permit_queries.numbers(session)
    rows = [
        {
            "period": (r.distribution.period_start, r.distribution.period_end),
            "cents": r.cents,
            "donated": r.donated,
            "parts": [
                {"permit": numbers[p.permit_id], "pool": p.pool_cents, "members": p.members, "cents": p.cents}
                for p in r.parts
            ],
        }
        for r in distributions.received_by(session, member.id)
    ]
    lang = viewer.lang
    return web.render(
        request,
        "dividends.html",
        viewer.actor,
        lang,
        rows=rows,
        balance=balance,
        paid=paid,
        member_id=member.id,
        year=now.year,
        euros=lambda cents: euros(cents, lang),
    )


@router.get("/board/distributions", response_class=HTMLResponse)
def distributions_page(request: Request, viewer: BoardViewer, session: ReadSession, now: Now) -> Response:
    lang = viewer.lang
    start, end = periods.suggested(session, now)
    return web.render(
        request,
        "board_distributions.html",
        viewer.actor,
        lang,
        rows=queries.listing(session),
        start=start,
        end=end,
        euros=lambda cents: euros(cents, lang),
    )


@router.get("/board/distributions/{distribution_id}", response_class=HTMLResponse)
def distribution_page(
    request: Request, viewer: BoardViewer, session: ReadSession, distribution_id: DistributionId
) -> Response:
    """A draft to review before committing: its totals and each permit's part."""
    d = distributions.get(session, distribution_id)
    numbers = permit_queries.numbers(session)
    permits = [
        {"number": numbers[p.permit_id], "revenue": p.revenue_cents, "pool": p.pool_cents, "members": p.members}
        for p in queries.permits_of(session, distribution_id)
    ]
    lang = viewer.lang
    return web.render(
        request,
        "board_distribution.html",
        viewer.actor,
        lang,
        d=d,
        permits=permits,
        euros=lambda cents: euros(cents, lang),
    )


@router.post("/board/distributions", dependencies=[CSRF, back_to("/board/distributions")])
def draft_distribution(
    who: Treasurer,
    session: WriteSession,
    period_start: Annotated[Day, Form()],
    period_end: Annotated[Day, Form()],
    now: Now,
) -> Response:
    distributions.draft(session, who, period_start, period_end, now=now)
    return web.redirect("/board/distributions?saved=1")


@router.post("/board/distributions/{distribution_id}/commit", dependencies=[CSRF, back_to("/board/distributions")])
def commit_distribution(who: Treasurer, session: WriteSession, distribution_id: DistributionId, now: Now) -> Response:
    distributions.commit(session, who, distribution_id, now=now)
    return web.redirect("/board/distributions?saved=1")
