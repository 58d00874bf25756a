"""Pages: logging in and out, and changing one's password, over the same login flow as the
API (:mod:`coop.auth.login`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from coop.auth import login as logins
from coop.auth.policy import Actor, Permission
from coop.auth.throttle import client_of
from coop.auth.two_factor_pages import ask_for_code, start_page
from coop.db import Database
from coop.deps import Now, SettingsDep, WriteSession, get_database
from coop.portal import web
from coop.portal.deps import CSRF, AnyViewer, MaybeActor, back_to, form_again, page_require
from coop.types import CleanStr

router = APIRouter(include_in_schema=False)
DatabaseDep = Annotated[Database, Depends(get_database)]


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    who = web.actor(request)
    return web.redirect("/login" if who is None else start_page(who.role))


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return web.render(request, "login.html", None, web.language(request))


@router.post("/login", dependencies=[CSRF, form_again("login.html")])
def log_in(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    email: Annotated[CleanStr, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    now: Now,
) -> Response:
    """Refused (a wrong email or password, or a wait): the login form again, saying why. An
    account with two-factor sign-in goes on to the code step (no login yet)."""
    client = client_of(request, settings.auth.trusted_proxies)
    throttle = request.app.state.login_throttle
    checked = logins.check_password(db, throttle, settings.auth, email, password, client, now=now)
    user = checked.user
    assert user.id is not None
    if checked.needs_code:
        return ask_for_code(request, user.id, user.token_generation)
    response = web.redirect(start_page(checked.role))
    web.log_in(request, response, user.id, checked.role.value, user.token_generation)
    return response


@router.post("/logout", dependencies=[CSRF])
def log_out(who: MaybeActor, session: WriteSession) -> Response:
    """End the login everywhere (every token of the account, as the API's logout does)."""
    response = web.redirect("/login")
    web.log_out(session, who, response)
    return response


@router.get("/me/password", response_class=HTMLResponse)
def password_page(request: Request, viewer: AnyViewer) -> Response:
    return web.render(request, "password.html", viewer.actor, viewer.lang)


@router.post("/me/password", dependencies=[CSRF, back_to("/me/password")])
def change_password(
    request: Request,
    who: Annotated[Actor, Depends(page_require(Permission.manage_own_login))],
    db: DatabaseDep,
    settings: SettingsDep,
    current_password: Annotated[str, Form(max_length=1000)],
    new_password: Annotated[str, Form(max_length=1000)],
    now: Now,
) -> Response:
    """A new password ends every other login; this browser gets a new one."""
    client = client_of(request, settings.auth.trusted_proxies)
    throttle = request.app.state.login_throttle
    user = logins.change_password(db, throttle, settings.auth, who, current_password, new_password, client, now=now)
    assert user.id is not None
    response = web.redirect("/me/password?saved=1")
    web.log_in(request, response, user.id, who.role.value, user.token_generation)
    return response
