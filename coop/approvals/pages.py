"""Pages: four eyes in the portal. A board user asks, from a draft distribution's page or the
annual reports page; another board user sees the request there, approves it after a
confirmation (money moves, or a report becomes the published one) or declines it; the asker
may withdraw it. The same services as the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from coop.approvals import queries, service
from coop.approvals.models import Action, BoardApproval
from coop.auth.policy import Actor, Permission
from coop.deps import ID_MAX, Now, ReadSession, SettingsDep, WriteSession
from coop.i18n import LANGUAGES, Language, autonym
from coop.money import distributions
from coop.portal import web
from coop.portal.deps import CSRF, Viewer, back_to, page_require, viewer_with
from reports.texts import euros

router = APIRouter(include_in_schema=False)
Treasurer = Annotated[Actor, Depends(page_require(Permission.manage_money))]
Reporter = Annotated[Actor, Depends(page_require(Permission.annual_reports))]
BoardViewer = Annotated[Viewer, viewer_with(Permission.manage_money)]
ApprovalId = Annotated[int, Path(ge=1, le=ID_MAX)]
DistributionId = Annotated[int, Path(ge=1, le=ID_MAX)]
Year = Annotated[int, Path(ge=2000, le=2100)]


def where(row: BoardApproval) -> str:
    """The page that shows a request: its distribution's, or the annual reports page."""
    if row.distribution_id is not None:
        return f"/board/distributions/{row.distribution_id}"
    return "/board/reports"


@router.post(
    "/board/distributions/{distribution_id}/commit-requests",
    dependencies=[CSRF, back_to("/board/distributions")],
)
def ask_commit(who: Treasurer, session: WriteSession, distribution_id: DistributionId, now: Now) -> Response:
    service.ask_commit(session, who, distribution_id, now=now)
    return web.redirect(f"/board/distributions/{distribution_id}?saved=1")


@router.post("/board/reports/{year}/publish-requests", dependencies=[CSRF, back_to("/board/reports")])
def ask_publish(
    who: Reporter,
    session: WriteSession,
    settings: SettingsDep,
    year: Year,
    now: Now,
    language: Annotated[list[Language] | None, Form()] = None,
) -> Response:
    service.ask_publish(session, who, settings, year, [str(lang) for lang in language or []], now=now)
    return web.redirect("/board/reports?saved=1")


@router.get("/board/approvals", response_class=HTMLResponse)
def waiting_page(request: Request, viewer: BoardViewer, session: ReadSession) -> Response:
    """Every request waiting for a second board member, oldest first, each with a link to
    its confirmation page: what it would do, who asked and when."""
    rows = queries.waiting(session)
    return web.render(
        request,
        "board_approvals.html",
        viewer.actor,
        viewer.lang,
        rows=rows,
        names=queries.board_names(session, [row.requested_by for row in rows]),
        me=viewer.actor.ledger_name,
        commit=Action.commit_distribution.value,
    )


@router.get("/board/approvals/{approval_id}", response_class=HTMLResponse)
def confirm_page(request: Request, viewer: BoardViewer, session: ReadSession, approval_id: ApprovalId) -> Response:
    """What approving would do, in words, with the button that does it."""
    row = service.get(session, approval_id)
    draft = distributions.get(session, row.distribution_id) if row.distribution_id is not None else None
    lang = viewer.lang
    return web.render(
        request,
        "board_approval.html",
        viewer.actor,
        lang,
        row=row,
        commit=row.action == Action.commit_distribution.value,
        draft=draft,
        chosen=[autonym(code) for code in row.language_list if code in LANGUAGES],
        names=queries.board_names(session, [row.requested_by, row.decided_by]),
        mine=row.requested_by == viewer.actor.ledger_name,
        back=where(row),
        euros=lambda cents: euros(cents, lang),
    )


def _back_to_its_page(request: Request, session: WriteSession, approval_id: int) -> None:
    """Refusals go back to the page that shows the request."""
    row = session.get(BoardApproval, approval_id)
    request.state.back = where(row) if row is not None else "/board/distributions"


@router.post("/board/approvals/{approval_id}/approve", dependencies=[CSRF])
def approve(
    request: Request, who: Treasurer, session: WriteSession, settings: SettingsDep, approval_id: ApprovalId, now: Now
) -> Response:
    _back_to_its_page(request, session, approval_id)
    result = service.approve(session, who, settings, approval_id, now=now)
    return web.redirect(f"{where(result.approval)}?saved=1")


@router.post("/board/approvals/{approval_id}/decline", dependencies=[CSRF])
def decline(request: Request, who: Treasurer, session: WriteSession, approval_id: ApprovalId, now: Now) -> Response:
    _back_to_its_page(request, session, approval_id)
    return web.redirect(f"{where(service.decline(session, who, approval_id, now=now))}?saved=1")


@router.post("/board/approvals/{approval_id}/withdraw", dependencies=[CSRF])
def withdraw(request: Request, who: Treasurer, session: WriteSession, approval_id: ApprovalId, now: Now) -> Response:
    _back_to_its_page(request, session, approval_id)
    return web.redirect(f"{where(service.withdraw(session, who, approval_id, now=now))}?saved=1")
