"""Pages: "Download my data", with the JSON file and the PDF summary of everything the
cooperative keeps about the logged-in member (also after leaving), and what they hold; the
same two files of a member for the board, who downloads them on the member's request."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from coop.auth.policy import Actor, Permission
from coop.deps import DatabaseDep, MemberId, Now, ReadSession, SettingsDep
from coop.portability import files
from coop.portability.schemas import SCHEMA_URL_PATH
from coop.portal import web
from coop.portal.deps import AnyViewer, PageActor, PageMember, PageMemberId, page_require

router = APIRouter(include_in_schema=False)
Board = Annotated[Actor, Depends(page_require(Permission.read_any_member))]
Form = Annotated[Literal["json", "pdf"], Path()]


@router.get("/me/export", response_class=HTMLResponse)
def export_page(request: Request, viewer: AnyViewer, member: PageMember) -> Response:
    return web.render(request, "export.html", viewer.actor, viewer.lang, member=member, schema=SCHEMA_URL_PATH)


@router.get("/me/export.{form}")
def export_file(
    who: PageActor,
    member_id: PageMemberId,
    session: ReadSession,
    settings: SettingsDep,
    now: Now,
    db: DatabaseDep,
    form: Form,
) -> Response:
    return files.download(session, db, who, member_id, settings, now, form)


@router.get("/board/members/{member_id}/export.{form}")
def board_export_file(
    member_id: MemberId, who: Board, session: ReadSession, settings: SettingsDep, now: Now, db: DatabaseDep, form: Form
) -> Response:
    """On the member's request: the board downloads it for them (in the member's access log)."""
    return files.download(session, db, who, member_id, settings, now, form)
