"""Page: the board's own accounts (add a board user, remove one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from coop.auth import board
from coop.auth.policy import Permission
from coop.deps import ID_MAX, Now, ReadSession, SettingsDep, WriteSession
from coop.i18n import Language
from coop.portal import web
from coop.portal.deps import CSRF, Viewer, back_to, viewer_with
from coop.types import CleanStr

router = APIRouter(include_in_schema=False)
Board = Annotated[Viewer, viewer_with(Permission.manage_board)]


@router.get("/board/users", response_class=HTMLResponse)
def board_users_page(request: Request, viewer: Board, session: ReadSession) -> Response:
    users = board.members(session)
    return web.render(request, "board_users.html", viewer.actor, viewer.lang, users=users, me=viewer.actor.id)


@router.post("/board/users", dependencies=[CSRF, back_to("/board/users")])
def add_board_user(
    viewer: Board,
    session: WriteSession,
    settings: SettingsDep,
    now: Now,
    email: Annotated[CleanStr, Form(min_length=3, max_length=320)],
) -> Response:
    """The new board user is mailed a link to set their password, in this page's language."""
    board.add(session, viewer.actor, settings.auth, email, Language(viewer.lang), now)
    return web.redirect("/board/users?saved=1")


@router.post("/board/users/{user_id}/remove", dependencies=[CSRF, back_to("/board/users")])
def remove_board_user(
    viewer: Board, session: WriteSession, now: Now, user_id: Annotated[int, Path(ge=1, le=ID_MAX)]
) -> Response:
    board.remove(session, viewer.actor, user_id, now)
    return web.redirect("/board/users?saved=1")
