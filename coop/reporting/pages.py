"""Pages: the board's annual reports (PDF in each language, publish) and a member's yearly
statement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from coop.access.models import AccessPurpose, AccessWhat
from coop.access.service import Read, record_apart
from coop.approvals import queries as approval_queries
from coop.auth.policy import Actor, Permission
from coop.deps import DatabaseDep, MemberId, Now, ReadSession, SettingsDep
from coop.errors import Invalid
from coop.i18n import DEFAULT_LANGUAGE
from coop.portal import web
from coop.portal.deps import PageActor, PageMemberId, Viewer, page_require, viewer_with
from coop.reporting import service

router = APIRouter(include_in_schema=False)
Year = Annotated[int, Path(ge=2000, le=2100)]
Reporter = Annotated[Actor, Depends(page_require(Permission.annual_reports))]
BoardReader = Annotated[Actor, Depends(page_require(Permission.read_any_member))]


@router.get("/board/reports", response_class=HTMLResponse)
def reports_page(
    request: Request, viewer: Annotated[Viewer, viewer_with(Permission.annual_reports)], session: ReadSession, now: Now
) -> Response:
    """Each of the last three years: its PDF in each language, and publishing it (asked by one
    board member, approved by another), with the request that waits and the last decided."""
    years = list(range(now.year, now.year - 3, -1))
    waiting = {y: approval_queries.open_for(session, approval_queries.report_target(y)) for y in years}
    decided = {y: approval_queries.last_decided(session, approval_queries.report_target(y)) for y in years}
    asked = [r for r in (*waiting.values(), *decided.values()) if r is not None]
    return web.render(
        request,
        "board_reports.html",
        viewer.actor,
        viewer.lang,
        years=years,
        waiting=waiting,
        decided=decided,
        names=approval_queries.board_names(session, [n for r in asked for n in (r.requested_by, r.decided_by)]),
        me=viewer.actor.ledger_name,
    )


@router.get("/board/reports/{year}.pdf")
def report_pdf(
    _who: Reporter, session: ReadSession, settings: SettingsDep, year: Year, now: Now, language: str = DEFAULT_LANGUAGE
) -> Response:
    if language not in web.LANGUAGES:
        raise Invalid("unknown language", code="invalid-report")
    return Response(service.annual_pdf(session, settings, year, language, None, now), media_type="application/pdf")


@router.get("/me/statement/{year}.pdf")
def statement_pdf(who: PageActor, member_id: PageMemberId, session: ReadSession, now: Now, year: Year) -> Response:
    _, pdf = service.statement_pdf(session, who, member_id, year, now)
    return Response(pdf, media_type="application/pdf")


@router.get("/board/members/{member_id}/statement.pdf")
def board_statement_pdf(
    member_id: MemberId,
    who: BoardReader,
    session: ReadSession,
    db: DatabaseDep,
    now: Now,
    year: Annotated[int, Query(ge=2000, le=2100)],
) -> Response:
    """A member's statement, produced by the board on the member's request (to send on paper,
    say); the member sees this read in their access log."""
    member, pdf = service.statement_pdf(session, who, member_id, year, now)
    record_apart(db, who, Read(AccessWhat.statement, member_id=member_id, purpose=AccessPurpose.statement), now)
    name = f"statement-{year}-{member.number}.pdf"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})
