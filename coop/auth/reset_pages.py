"""Pages: "forgot password" (ask for a link by mail) and setting a new password with that link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from coop.auth import reset
from coop.db import Database
from coop.deps import Now, SettingsDep, WriteSession, get_database
from coop.errors import CoopError
from coop.i18n import Language
from coop.portal import web
from coop.portal.deps import CSRF
from coop.types import CleanStr

router = APIRouter(include_in_schema=False)


@router.get("/password/forgot", response_class=HTMLResponse)
def forgot_page(request: Request) -> Response:
    return web.render(request, "forgot.html", None, web.language(request), sent=False)


@router.post("/password/forgot", dependencies=[CSRF])
def forgot(
    request: Request,
    session: WriteSession,
    settings: SettingsDep,
    now: Now,
    email: Annotated[CleanStr, Form(max_length=320)],
) -> Response:
    """The same answer whether or not the address has an account."""
    lang = web.language(request)
    reset.request_reset(session, settings.mail, email, Language(lang), now)
    return web.render(request, "forgot.html", None, lang, sent=True)


@router.get("/password/reset", response_class=HTMLResponse)
def reset_page(request: Request, token: str = "") -> Response:
    return web.render(request, "reset.html", None, web.language(request), token=token[:200], done=False)


@router.post("/password/reset", dependencies=[CSRF])
def reset_password(
    request: Request,
    db: Annotated[Database, Depends(get_database)],
    settings: SettingsDep,
    now: Now,
    token: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    """The form again when refused: the one-time token stays out of every address."""
    lang = web.language(request)
    try:
        with db.unit_of_work() as session:
            reset.reset_password(session, settings.auth, token, password, now)
    except CoopError as exc:
        code = "password-length" if exc.extra.get("field") == "password" else exc.code
        return web.render(
            request, "reset.html", None, lang, status_code=exc.status, token=token, done=False, error=code
        )
    return web.render(request, "reset.html", None, lang, token="", done=True)
