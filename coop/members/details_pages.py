"""Pages: a member's details (name and email) with forms to correct them, the board's page for
one member's details, and following the link that confirms a new email address.

The same service as the API's (:mod:`coop.members.details`), as the logged-in actor. The
confirmation link needs no login (the link is the credential, as a password reset's is):
opening it shows a question and a button, so a mail scanner that follows links changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from coop.access.models import AccessWhat
from coop.access.service import Read, record_apart
from coop.auth.policy import Actor, Permission
from coop.deps import DatabaseDep, MemberId, Now, ReadSession, SettingsDep, WriteSession
from coop.members import details, queries
from coop.members.models import Member
from coop.portal import web
from coop.portal.deps import CSRF, AnyViewer, PageActor, PageMember, PageMemberId, back_to, form_again, page_require
from coop.types import CleanStr

router = APIRouter(include_in_schema=False)
Board = Annotated[Actor, Depends(page_require(Permission.manage_any_member))]


def _details(
    request: Request, actor: Actor, lang: str, session: ReadSession, member: Member, now: Now, base: str
) -> Response:
    assert member.id is not None
    pending = queries.pending_email_change(session, member.id, now)
    return web.render(
        request,
        "details.html",
        actor,
        lang,
        member=member,
        pending=pending,
        base=base,
        sent="sent" in request.query_params,
    )


@router.get("/me/details", response_class=HTMLResponse)
def details_page(request: Request, viewer: AnyViewer, member: PageMember, session: ReadSession, now: Now) -> Response:
    return _details(request, viewer.actor, viewer.lang, session, member, now, "/me/details")


@router.post("/me/details/name", dependencies=[CSRF, back_to("/me/details")])
def rename(
    who: PageActor,
    member_id: PageMemberId,
    session: WriteSession,
    now: Now,
    name: Annotated[CleanStr, Form(max_length=200)],
) -> Response:
    details.rename(session, who, member_id, name, now)
    return web.redirect("/me/details?saved=1")


@router.post("/me/details/email", dependencies=[CSRF, back_to("/me/details")])
def change_email(
    who: PageActor,
    member_id: PageMemberId,
    session: WriteSession,
    settings: SettingsDep,
    now: Now,
    email: Annotated[CleanStr, Form(max_length=320)],
) -> Response:
    details.request_email_change(session, who, settings.mail, member_id, email, now)
    return web.redirect("/me/details?sent=1")


def _back_to_member(request: Request, member_id: MemberId) -> None:
    request.state.back = f"/board/members/{member_id}/details"


BACK_TO_MEMBER = Depends(_back_to_member)


@router.get("/board/members/{member_id}/details", response_class=HTMLResponse)
def board_details_page(
    request: Request, member_id: MemberId, who: Board, session: ReadSession, now: Now, db: DatabaseDep
) -> Response:
    member = queries.get_for(session, who, member_id)
    record_apart(db, who, Read(AccessWhat.member_details, member_id=member_id), now)
    return _details(request, who, web.language(request), session, member, now, f"/board/members/{member_id}/details")


@router.post("/board/members/{member_id}/details/name", dependencies=[CSRF, BACK_TO_MEMBER])
def board_rename(
    member_id: MemberId, who: Board, session: WriteSession, now: Now, name: Annotated[CleanStr, Form(max_length=200)]
) -> Response:
    details.rename(session, who, member_id, name, now)
    return web.redirect(f"/board/members/{member_id}/details?saved=1")


@router.post("/board/members/{member_id}/details/email", dependencies=[CSRF, BACK_TO_MEMBER])
def board_change_email(
    member_id: MemberId,
    who: Board,
    session: WriteSession,
    settings: SettingsDep,
    now: Now,
    email: Annotated[CleanStr, Form(max_length=320)],
) -> Response:
    """On the member's request: the link goes to the new address, which must confirm it."""
    details.request_email_change(session, who, settings.mail, member_id, email, now)
    return web.redirect(f"/board/members/{member_id}/details?sent=1")


@router.get("/email/confirm", response_class=HTMLResponse)
def confirm_page(request: Request, token: str = "") -> Response:
    return web.render(request, "email_confirm.html", None, web.language(request), token=token[:200], done=False)


@router.post("/email/confirm", dependencies=[CSRF, form_again("email_confirm.html", "token")])
def confirm(request: Request, session: WriteSession, now: Now, token: Annotated[str, Form(max_length=200)]) -> Response:
    """Refused: the page again, saying why (the one-time token stays out of every address)."""
    member = details.confirm_email_change(session, token, now)
    lang = web.language(request)
    return web.render(request, "email_confirm.html", None, lang, token="", done=True, email=member.email)
