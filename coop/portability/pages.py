"""Pages: "Download my data", with the JSON file and the PDF summary of everything the
cooperative keeps about the logged-in member (also after leaving), and what they hold; the
same two files of a member for the board, who downloads them on the member's request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from coop.access.models import AccessWhat
from coop.access.service import Read, record_apart
from coop.auth.policy import Actor, Permission
from coop.deps import DatabaseDep, MemberId, Now, ReadSession, SettingsDep
from coop.portability import export
from coop.portability.schemas import SCHEMA_URL_PATH
from coop.portal import web
from coop.portal.deps import AnyViewer, PageActor, PageMember, PageMemberId, page_require

router = APIRouter(include_in_schema=False)
Board = Annotated[Actor, Depends(page_require(Permission.read_any_member))]


@router.get("/me/export", response_class=HTMLResponse)
def export_page(request: Request, viewer: AnyViewer, member: PageMember) -> Response:
    return web.render(request, "export.html", viewer.actor, viewer.lang, member=member, schema=SCHEMA_URL_PATH)


def _download(data: bytes, media_type: str, name: str) -> Response:
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/me/export.json")
def export_json(
    who: PageActor, member_id: PageMemberId, session: ReadSession, settings: SettingsDep, now: Now
) -> Response:
    member, data = export.for_reader(session, who, member_id, settings, now)
    return _download(export.as_json(data), "application/json", export.file_name(member, now, "json"))


@router.get("/me/export.pdf")
def export_pdf(
    who: PageActor, member_id: PageMemberId, session: ReadSession, settings: SettingsDep, now: Now
) -> Response:
    member, data = export.for_reader(session, who, member_id, settings, now)
    return _download(export.as_pdf(data), "application/pdf", export.file_name(member, now, "pdf"))


@router.get("/board/members/{member_id}/export.json")
def board_export_json(
    member_id: MemberId, who: Board, session: ReadSession, settings: SettingsDep, now: Now, db: DatabaseDep
) -> Response:
    """On the member's request: the board downloads it for them."""
    member, data = export.for_reader(session, who, member_id, settings, now)
    record_apart(db, who, Read(AccessWhat.export, member_id=member_id), now)  # on the member's request
    return _download(export.as_json(data), "application/json", export.file_name(member, now, "json"))


@router.get("/board/members/{member_id}/export.pdf")
def board_export_pdf(
    member_id: MemberId, who: Board, session: ReadSession, settings: SettingsDep, now: Now, db: DatabaseDep
) -> Response:
    member, data = export.for_reader(session, who, member_id, settings, now)
    record_apart(db, who, Read(AccessWhat.export, member_id=member_id), now)  # on the member's request
    return _download(export.as_pdf(data), "application/pdf", export.file_name(member, now, "pdf"))
