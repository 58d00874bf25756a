"""Pages: accepting an invitation, and the board's list of members (search, admit one or a
file of them, invite again); with them, a member's details (:mod:`coop.members.details_pages`)
and leaving (:mod:`coop.members.leave_pages`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session, col

from coop.access.models import AccessWhat
from coop.access.service import Read, record, record_apart
from coop.auth.models import UserAccount
from coop.auth.policy import Actor, Permission
from coop.db import Database
from coop.deps import DatabaseDep, MemberId, Now, ReadSession, SettingsDep, WriteSession, get_database
from coop.errors import Invalid
from coop.i18n import DEFAULT_LANGUAGE
from coop.members import admission, details_pages, leave_pages, queries, service
from coop.members.models import Language, MemberStatus
from coop.members.schemas import MemberIn
from coop.portal import web
from coop.portal.deps import CSRF, Viewer, back_to, form_again, page_require, viewer_with
from coop.types import CleanStr

router = APIRouter(include_in_schema=False)
router.include_router(details_pages.router)
router.include_router(leave_pages.router)
PAGE_SIZE = 50


@router.get("/invitation", response_class=HTMLResponse)
def invitation_page(request: Request, token: str = "") -> Response:
    return web.render(request, "invitation.html", None, web.language(request), token=token[:200], done=False)


@router.post("/invitation", dependencies=[CSRF, form_again("invitation.html", "token")])
def accept_invitation(
    request: Request,
    session: WriteSession,
    settings: SettingsDep,
    now: Now,
    token: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    """Refused: the form again, saying why (the one-time token stays out of every address)."""
    service.accept_invitation(session, settings.auth, token, password, now)
    return web.render(request, "invitation.html", None, web.language(request), token="", done=True)


Recorder = Callable[[Read], None]
"""Records the read of the list a page shows: in the page's own write transaction, or (on a
read) in one of its own before the page is served (:mod:`coop.access.service`)."""


def apart(db: Database, who: Actor, now: datetime) -> Recorder:
    return lambda read: record_apart(db, who, read, now)


def within(session: Session, who: Actor, now: datetime) -> Recorder:
    def recorder(read: Read) -> None:
        record(session, who, read, now)

    return recorder


def _members(
    request: Request,
    viewer: Viewer,
    session: ReadSession,
    q: str,
    page: int,
    recorder: Recorder,
    imported: admission.Report | None = None,
    **admitted: str,
) -> HTMLResponse:
    found, total = queries.search(session, q[:200] or None, None, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    ids = [m.id for m in found]
    recorder(Read(AccessWhat.member_list, members=[i for i in ids if i is not None]))
    with_password = set(
        session.execute(select(col(UserAccount.member_id)).where(col(UserAccount.member_id).in_(ids))).scalars()
    )
    return web.render(
        request,
        "board_members.html",
        viewer.actor,
        viewer.lang,
        members=found,
        total=total,
        q=q[:200],
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        invitable={m.id for m in found if m.id not in with_password and m.status == MemberStatus.active.value},
        admitted=admitted.get("number"),
        link=admitted.get("link"),
        imported=imported,
        refusal=lambda code: web.refusal_text(code, viewer.lang),
        reinvited=admitted.get("reinvited"),
    )


@router.get("/board/members", response_class=HTMLResponse)
def members_page(
    request: Request,
    viewer: Annotated[Viewer, viewer_with(Permission.list_members)],
    session: ReadSession,
    db: DatabaseDep,
    now: Now,
    q: CleanStr = "",
    page: int = 1,
) -> Response:
    return _members(request, viewer, session, q, max(1, min(page, 100_000)), apart(db, viewer.actor, now))


@router.post("/board/members", dependencies=[CSRF, back_to("/board/members")])
def admit_member(
    request: Request,
    who: Annotated[Actor, Depends(page_require(Permission.admit_members))],
    session: WriteSession,
    settings: SettingsDep,
    now: Now,
    name: Annotated[CleanStr, Form(min_length=1, max_length=200)],
    email: Annotated[CleanStr, Form(min_length=3, max_length=320)],
    language: Annotated[Language, Form()] = DEFAULT_LANGUAGE,
) -> Response:
    try:  # the same checks as POST /members and the import
        checked = MemberIn(name=name, email=email, language=Language(language))
    except ValidationError as exc:
        email_wrong = any(e["loc"] and e["loc"][0] == "email" for e in exc.errors())
        code = "invalid-email" if email_wrong else "invalid-name"
        raise Invalid("the name or email address is not valid", code=code) from None
    member, issued = service.admit(session, who, settings.auth, checked.name, checked.email, checked.language, now)
    session.flush()
    # shown once, in this response: the one-time token never goes into a URL the browser keeps
    link = f"{request.base_url}invitation?token={issued.token}"
    viewer = Viewer(who, web.language(request))
    return _members(request, viewer, session, "", 1, within(session, who, now), number=member.number, link=link)


@router.post("/board/members/import", dependencies=[CSRF, back_to("/board/members")])
def import_members(
    request: Request,
    who: Annotated[Actor, Depends(page_require(Permission.admit_members))],
    db: Annotated[Database, Depends(get_database)],
    now: Now,
    file: Annotated[UploadFile, File()],
) -> Response:
    """A file of members from the membership administration (see :mod:`coop.members.admission`):
    admitted in batches, each its own transaction, then the list and what became of each row."""
    report = admission.run(db, who, file.file.read(), now)
    with db.unit_of_work(write=False) as session:
        viewer = Viewer(who, web.language(request))
        return _members(request, viewer, session, "", 1, apart(db, who, now), imported=report)


@router.post("/board/members/{member_id}/invitation", dependencies=[CSRF, back_to("/board/members")])
def reinvite_member(
    request: Request,
    member_id: MemberId,
    who: Annotated[Actor, Depends(page_require(Permission.admit_members))],
    session: WriteSession,
    settings: SettingsDep,
    now: Now,
) -> Response:
    """A new invitation by mail; the earlier link stops working."""
    member = queries.get_for(session, who, member_id)
    service.reinvite(session, who, settings.auth, member_id, now)
    viewer = Viewer(who, web.language(request))
    return _members(request, viewer, session, "", 1, within(session, who, now), reinvited=member.number)
