"""Pages: the board's annual reports (PDF in each language, publish) and a member's yearly
statement."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from coop.auth.policy import Actor, Permission
from coop.deps import Now, ReadSession, SettingsDep, WriteSession
from coop.errors import Invalid
from coop.i18n import DEFAULT_LANGUAGE
from coop.members.models import Language
from coop.portal import web
from coop.portal.deps import CSRF, PageActor, PageMemberId, Viewer, back_to, page_require, viewer_with
from coop.reporting import service

router = APIRouter(include_in_schema=False)
Year = Annotated[int, Path(ge=2000, le=2100)]
Reporter = Annotated[Actor, Depends(page_require(Permission.annual_reports))]


def _sha256(text: str | None) -> str | None:
    """A published report's hash, back from the redirect; a link cannot make the page show other text."""
    return text if text and re.fullmatch(r"[0-9a-f]{64}", text) else None


@router.get("/board/reports", response_class=HTMLResponse)
def reports_page(
    request: Request, viewer: Annotated[Viewer, viewer_with(Permission.annual_reports)], now: Now
) -> Response:
    return web.render(
        request,
        "board_reports.html",
        viewer.actor,
        viewer.lang,
        years=list(range(now.year, now.year - 3, -1)),
        published=_sha256(request.query_params.get("sha256")),
    )


@router.post("/board/reports/{year}/publish", dependencies=[CSRF, back_to("/board/reports")])
def publish_report(
    who: Reporter,
    session: WriteSession,
    settings: SettingsDep,
    year: Year,
    now: Now,
    language: Annotated[Language, Form()] = DEFAULT_LANGUAGE,
) -> Response:
    record = service.publish_annual(session, who, settings, year, language, now)
    return web.redirect(f"/board/reports?sha256={record['sha256']}")


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
