"""Page: the organisations' API keys, for the board (make one, its token shown once; revoke one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from coop.auth import queries, service
from coop.auth.policy import ORG_ROLES, Permission
from coop.auth.service import CreatedKey
from coop.deps import ID_MAX, Now, ReadSession, WriteSession
from coop.portal import web
from coop.portal.deps import CSRF, Viewer, back_to, viewer_with

router = APIRouter(include_in_schema=False)
Board = Annotated[Viewer, viewer_with(Permission.manage_api_keys)]
ROLES = sorted(r.value for r in ORG_ROLES)


def _page(request: Request, viewer: Viewer, session: Session, created: CreatedKey | None = None) -> Response:
    keys = queries.list_api_keys(session)
    return web.render(
        request, "board_api_keys.html", viewer.actor, viewer.lang, keys=keys, roles=ROLES, created=created
    )


@router.get("/board/api-keys", response_class=HTMLResponse)
def keys_page(request: Request, viewer: Board, session: ReadSession) -> Response:
    return _page(request, viewer, session)


@router.post("/board/api-keys", response_class=HTMLResponse, dependencies=[CSRF, back_to("/board/api-keys")])
def make_key(
    request: Request,
    viewer: Board,
    session: WriteSession,
    now: Now,
    org: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(max_length=20)],
) -> Response:
    """The new key's token is on this answer only: it is never stored, and never in an address."""
    created = service.create_api_key(session, viewer.actor, org, role, now=now)
    response = _page(request, viewer, session, created=created)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/board/api-keys/{key_id}/revoke", dependencies=[CSRF, back_to("/board/api-keys")])
def revoke_key(
    viewer: Board, session: WriteSession, now: Now, key_id: Annotated[int, Path(ge=1, le=ID_MAX)]
) -> Response:
    service.revoke_api_key(session, viewer.actor, key_id, now=now)
    return web.redirect("/board/api-keys?saved=1")
