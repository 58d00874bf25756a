"""Pages: the code step of signing in, and a board user's two-factor sign-in (set up an app
with a QR code or its secret as text, confirm it with a first code, see the recovery codes
once, switch it off or renew the codes with a current code), over the same services and
throttle as the API (:mod:`coop.auth.two_factor`, :mod:`coop.auth.login`).

Between the password and the code, the browser holds only a signed challenge valid a few
minutes (:func:`coop.auth.totp.issue_challenge`), in a cookie of its own: no login exists
until the code was right."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Protocol, TypeVar

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from coop.auth import login as logins
from coop.auth import queries, totp, two_factor
from coop.auth.policy import Actor, Role
from coop.auth.throttle import client_of
from coop.db import Database
from coop.deps import Now, ReadSession, SettingsDep, WriteSession, get_database
from coop.errors import Unauthenticated
from coop.i18n import translator
from coop.portal import web
from coop.portal.deps import CSRF, EnrollingActor, back_to, form_again
from coop.settings import Settings
from coop.types import utcnow

router = APIRouter(include_in_schema=False)
DatabaseDep = Annotated[Database, Depends(get_database)]
CHALLENGE_COOKIE = "coop_sign_in"
PAGE = "/me/two-factor"
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


def _secret(request: Request) -> bytes:
    secret: bytes = request.app.state.jwt_secret
    return secret


def start_page(role: Role) -> str:
    if role is Role.carer:  # a carer has no member pages: their principals and questions
        return "/me/proxies"
    return "/board/members" if role is Role.board else "/me"


def ask_for_code(request: Request, user_id: int, generation: int) -> Response:
    """After the right password of an account with two-factor sign-in: on to the code step."""
    challenge = totp.issue_challenge(_secret(request), user_id, generation, now=utcnow())
    response = web.redirect("/login/code")
    response.set_cookie(
        CHALLENGE_COOKIE,
        challenge,
        max_age=totp.CHALLENGE_MINUTES * 60,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
        path="/login",
    )
    return response


@router.get("/login/code", response_class=HTMLResponse)
def code_page(request: Request) -> Response:
    if CHALLENGE_COOKIE not in request.cookies:
        return web.redirect("/login")
    return web.render(request, "login_code.html", None, web.language(request))


@router.post("/login/code", dependencies=[CSRF, form_again("login_code.html")])
def check_code(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    code: Annotated[str, Form(max_length=40)],
    now: Now,
) -> Response:
    """Refused (a wrong or used code, or a wait): the code form again, saying why; an expired
    challenge: the password again."""
    try:
        user_id, generation = totp.read_challenge(_secret(request), request.cookies.get(CHALLENGE_COOKIE, ""))
    except Unauthenticated:
        return web.redirect("/login?error=challenge-expired")
    client = client_of(request, settings.auth.trusted_proxies)
    throttle = request.app.state.login_throttle
    user, role = logins.check_second_factor(db, throttle, _secret(request), user_id, generation, code, client, now=now)
    assert user.id is not None
    response = web.redirect(start_page(role))
    response.delete_cookie(CHALLENGE_COOKIE, path="/login")
    web.log_in(request, response, user.id, role.value, user.token_generation)
    return response


def _page(request: Request, session: Session, who: Actor) -> Response:
    lang = web.language(request)
    t = translator(lang)
    found = two_factor.own_status(session, who)
    setup = two_factor.pending_setup(session, who, _secret(request)) if found.pending else None
    qr = totp.qr_svg(setup.uri, t("two_factor_qr_label")) if setup else None
    secret = totp.grouped(setup.secret) if setup else None
    required = not web.may_act(request, who)
    return web.render(request, "two_factor.html", who, lang, status=found, qr=qr, secret=secret, required=required)


@router.get(PAGE, response_class=HTMLResponse)
def two_factor_page(request: Request, who: EnrollingActor, session: ReadSession) -> Response:
    return _page(request, session, who)


@router.post(f"{PAGE}/start", dependencies=[CSRF, back_to(PAGE)])
def set_up(request: Request, who: EnrollingActor, session: WriteSession, now: Now) -> Response:
    """A new secret (replacing one not yet confirmed); the page then shows its QR code."""
    two_factor.start(session, who, _secret(request), now=now)
    return web.redirect(PAGE)


def _codes_page(request: Request, who: Actor, codes: list[str]) -> Response:
    """The recovery codes, in the answer to the form itself: they are in no address and no log."""
    return web.render(request, "two_factor_codes.html", who, web.language(request), codes=codes)


class CodeCheckedWork(Protocol[T_co]):
    """A change to one's own two-factor sign-in that a current code must allow."""

    def __call__(self, session: Session, actor: Actor, app_secret: bytes, code: str, *, now: datetime) -> T_co: ...


def _with_code(
    request: Request, who: Actor, db: Database, settings: Settings, code: str, now: datetime, work: CodeCheckedWork[T]
) -> T:
    """``work`` with the code the person typed, throttled like a login (a wrong code counts)."""
    client = client_of(request, settings.auth.trusted_proxies)
    throttle = request.app.state.login_throttle
    return logins.with_code(db, throttle, who, client, now, lambda s: work(s, who, _secret(request), code, now=now))


Code = Annotated[str, Form(max_length=40)]


@router.post(f"{PAGE}/enable", dependencies=[CSRF, back_to(PAGE)])
def enable(
    request: Request, who: EnrollingActor, db: DatabaseDep, settings: SettingsDep, code: Code, now: Now
) -> Response:
    """Every earlier login ends; this browser gets a new one."""
    codes = _with_code(request, who, db, settings, code, now, two_factor.enable)
    with db.unit_of_work(write=False) as session:
        user = queries.own_account(session, who)
    response = _codes_page(request, who, codes)
    web.log_in(request, response, who.id, who.role.value, user.token_generation)
    return response


@router.post(f"{PAGE}/recovery-codes", dependencies=[CSRF, back_to(PAGE)])
def renew(
    request: Request, who: EnrollingActor, db: DatabaseDep, settings: SettingsDep, code: Code, now: Now
) -> Response:
    return _codes_page(request, who, _with_code(request, who, db, settings, code, now, two_factor.renew_codes))


@router.post(f"{PAGE}/disable", dependencies=[CSRF, back_to(PAGE)])
def disable(
    request: Request, who: EnrollingActor, db: DatabaseDep, settings: SettingsDep, code: Code, now: Now
) -> Response:
    _with_code(request, who, db, settings, code, now, two_factor.disable)
    return web.redirect(f"{PAGE}?saved=1")
