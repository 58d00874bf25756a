"""Pages: the permits that used a member's data with their results, and the board's permit
register with compliance flags."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from coop.auth.policy import Permission
from coop.deps import Now, ReadSession, SettingsDep
from coop.permits import rules, service, usage
from coop.portal import web
from coop.portal.deps import AnyViewer, PageMember, Viewer, viewer_with
from coop.vocabulary.terms import Purpose, from_mask

router = APIRouter(include_in_schema=False)


@router.get("/me/data-use", response_class=HTMLResponse)
def data_use_page(request: Request, viewer: AnyViewer, member: PageMember, session: ReadSession, now: Now) -> Response:
    rows = usage.permits_using(session, member.id or 0)
    results = usage.results_of(session, [p.id for p, _ in rows if p.id is not None])
    uses = [
        {
            "number": p.permit_number,
            "applicant": p.applicant,
            "user_type": p.user_type,
            "purposes": [x.value for x in from_mask(Purpose, p.purposes_mask)],
            "status": rules.status_of(p, now).value,
            "since": since,
            "results": results.get(p.id or 0, []),
        }
        for p, since in rows
    ]
    return web.render(request, "data_use.html", viewer.actor, viewer.lang, uses=uses)


@router.get("/board/permits", response_class=HTMLResponse)
def permits_page(
    request: Request,
    viewer: Annotated[Viewer, viewer_with(Permission.read_all_permits)],
    session: ReadSession,
    settings: SettingsDep,
    now: Now,
) -> Response:
    permits = [
        {
            "number": p.permit_number,
            "applicant": p.applicant,
            "user_type": p.user_type,
            "status": rules.status_of(p, now).value,
            "flags": [(f.rule, f.article) for f in usage.compliance(session, p, settings, now)],
        }
        for p in service.listing(session, viewer.actor)
    ]
    return web.render(request, "board_permits.html", viewer.actor, viewer.lang, permits=permits)
