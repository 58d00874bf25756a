"""Pages: a member leaves the cooperative, and a former member asks to erase their details now.

The page says in plain words what leaving means before the member confirms (a tick and a
button); leaving ends every login of theirs, so the answer is the result page itself, signed
out. A former member who signs in again finds the same page with the request for early
erasure (:mod:`coop.members.erasure`), which the next daily run carries out.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from coop.deps import Now, ReadSession, SettingsDep, WriteSession
from coop.errors import Invalid
from coop.members import erasure, service
from coop.members.models import MemberStatus
from coop.portal import web
from coop.portal.deps import CSRF, AnyViewer, PageActor, PageMember, PageMemberId, back_to

router = APIRouter(include_in_schema=False)
Understood = Annotated[str, Form(max_length=10)]


def _confirmed(understood: str) -> None:
    if understood != "yes":
        raise Invalid("tick that you understand what this means", code="not-confirmed", field="understood")


@router.get("/me/leave", response_class=HTMLResponse)
def leave_page(
    request: Request, viewer: AnyViewer, member: PageMember, session: ReadSession, settings: SettingsDep
) -> Response:
    years = settings.privacy.retention_years
    return web.render(
        request,
        "leave.html",
        viewer.actor,
        viewer.lang,
        member=member,
        active=member.status == MemberStatus.active.value,
        years=years,
        name_until=erasure.name_erased_from(member, years),
        left_now=False,
    )


@router.post("/me/leave", dependencies=[CSRF, back_to("/me/leave")])
def leave(
    request: Request,
    who: PageActor,
    member_id: PageMemberId,
    session: WriteSession,
    now: Now,
    understood: Understood = "",
) -> Response:
    """Leaving ends the member's logins: the result page is shown signed out."""
    _confirmed(understood)
    member = service.leave(session, who, member_id, now)
    response = web.render(
        request, "leave.html", None, web.language(request, member.language), member=member, left_now=True
    )
    web.log_out(session, None, response)
    return response


@router.post("/me/erasure-request", dependencies=[CSRF, back_to("/me/leave")])
def request_erasure(
    who: PageActor, member_id: PageMemberId, session: WriteSession, now: Now, understood: Understood = ""
) -> Response:
    _confirmed(understood)
    erasure.request(session, who, member_id, now)
    return web.redirect("/me/leave?saved=1")
