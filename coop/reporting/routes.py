"""HTTP: the annual benefit report (board), member statements (the member), and the public
transparency page (anyone)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from coop.access.models import AccessPurpose, AccessWhat
from coop.access.service import Read, record_apart
from coop.auth.policy import Actor, Permission
from coop.deps import SEQ_MAX, CurrentActor, DatabaseDep, MemberId, Now, ReadSession, get_settings, require
from coop.errors import Conflict
from coop.i18n import DEFAULT_LANGUAGE, LANGUAGES, Language, autonym, translator
from coop.openapi import problems
from coop.reporting import service, transparency
from coop.settings import Settings

router = APIRouter(tags=["reports"])
Board = Annotated[Actor, Depends(require(Permission.annual_reports))]
Year = Annotated[int, Path(ge=2000, le=2100, description="the calendar year")]
Lang = Annotated[Language, Query(description="the report's language")]
TreeSize = Annotated[
    int | None,
    Query(ge=1, le=SEQ_MAX, description="the signed tree head the integrity statement shows (default: the newest)"),
]
PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}}}
_templates = Environment(loader=PackageLoader("coop", "templates"), autoescape=select_autoescape())
_templates.globals.update(languages=LANGUAGES, autonym=autonym)


def _plain(value: Any) -> Any:
    """Dataclasses, dates and tuples as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@router.get(
    "/reports/annual/{year}.pdf",
    summary="The annual benefit report as PDF (board); the same figures give the same bytes",
    response_class=Response,
    responses=PDF,
)
def annual_pdf(
    year: Year,
    session: ReadSession,
    _actor: Board,
    settings: Annotated[Settings, Depends(get_settings)],
    now: Now,
    lang: Lang = DEFAULT_LANGUAGE,
    tree_size: TreeSize = None,
) -> Response:
    pdf = service.annual_pdf(session, settings, year, lang, tree_size, now)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="annual-report-{year}-{lang}.pdf"'},
    )


@router.get(  # after the .pdf route, which this one would otherwise take for a year
    "/reports/annual/{year}", summary="The figures of the annual benefit report (board)"
)
def annual_figures(
    year: Year,
    session: ReadSession,
    _actor: Board,
    settings: Annotated[Settings, Depends(get_settings)],
    now: Now,
    tree_size: TreeSize = None,
) -> dict[str, Any]:
    annual = service.annual(session, settings, year, tree_size, now)
    return {**_plain(annual), "net_income_cents": annual.net_income_cents, "grants_cents": annual.grants_cents}


SECOND_APPROVAL = (
    "publishing needs a second board user: ask with POST /api/v1/reports/annual/{year}/publish-requests, "
    "and another board user approves with POST /api/v1/approvals/{request_id}/approve"
)


@router.post(
    "/reports/annual/{year}/publish",
    summary="No longer publishes: the annual report is published by a second board user's approval (board)",
    description=SECOND_APPROVAL,
    responses=problems({409: "second-approval-needed"}),
)
def publish(year: Year, _actor: Board) -> None:
    raise Conflict(SECOND_APPROVAL.replace("{year}", str(year)), code="second-approval-needed")


@router.get(
    "/members/{member_id}/statement/{year}.pdf",
    summary="My statement for a year, in my language (the member; or the board producing it for them)",
    description="The board may produce a member's statement for them (to send it on paper, for instance); "
    "the member sees that read in their access log. Anyone else is told 404 `member-not-found`.",
    response_class=Response,
    responses={**PDF, **problems({404: "member-not-found"})},
)
def member_statement(
    member_id: MemberId, year: Year, session: ReadSession, actor: CurrentActor, now: Now, db: DatabaseDep
) -> Response:
    member, pdf = service.statement_pdf(session, actor, member_id, year, now)
    read = Read(AccessWhat.statement, member_id=member_id, purpose=AccessPurpose.statement)
    record_apart(db, actor, read, now)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="statement-{year}-{member.number}.pdf"'},
    )


@router.get("/public/transparency", summary="Permits, results, benefit flows, aggregate choices, tree head (public)")
def public_transparency(
    session: ReadSession, settings: Annotated[Settings, Depends(get_settings)], now: Now
) -> dict[str, Any]:
    page: dict[str, Any] = _plain(transparency.page(session, settings, now))
    return page


@router.get(
    "/public/transparency.html",
    summary="The same as a web page (public)",
    response_class=HTMLResponse,
)
def public_transparency_html(
    session: ReadSession, settings: Annotated[Settings, Depends(get_settings)], now: Now, lang: Lang = DEFAULT_LANGUAGE
) -> HTMLResponse:
    from reports.texts import euros, word

    data = _plain(transparency.page(session, settings, now))
    html = _templates.get_template("transparency.html").render(
        page=data, lang=lang, t=translator(lang), euros=lambda c: euros(c, lang), word=lambda w: word(w, lang)
    )
    return HTMLResponse(html)
