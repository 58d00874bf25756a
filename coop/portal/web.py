"""What every portal page needs: the login cookie, CSRF protection, the language, and
rendering a template.

* The login is the API's own bearer token (a signed JWT), kept in an HttpOnly,
  SameSite=Lax cookie (Secure when served over HTTPS), so a page authorises exactly as the
  API does: the same actor, the same policies, the same services. Logging out ends the
  token itself, not only the cookie.
* Every form carries a CSRF token: an HMAC, under the server's secret, of a random value in
  a separate SameSite=Strict cookie (the double-submit pattern, signed). A POST without the
  matching token is refused before anything happens.
* Dutch is the default; ``?lang=en`` (or another of :data:`coop.i18n.LANGUAGES`) switches
  and is remembered in a cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlmodel import Session

from coop.auth import queries as auth_queries
from coop.auth import service as auth_service
from coop.auth.policy import Actor, may_act_without_second_factor
from coop.auth.secrets import issue_token
from coop.db import Database
from coop.errors import CoopError, Forbidden
from coop.i18n import LANGUAGES as LANGUAGES  # pages check a language against web.LANGUAGES
from coop.i18n import autonym, language_or_default, local_time, translator
from coop.portal.texts import REFUSALS, label
from coop.settings import Mode, Settings
from coop.types import utcnow

SESSION_COOKIE = "coop_session"
CSRF_COOKIE = "coop_csrf"
LANG_COOKIE = "coop_lang"

templates = Environment(loader=PackageLoader("coop", "templates/portal"), autoescape=select_autoescape())
templates.globals.update(languages=LANGUAGES, autonym=autonym)


def _secret(request: Request) -> bytes:
    secret: bytes = request.app.state.jwt_secret
    return secret


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def settings_of(request: Request) -> Settings:
    return _db(request).settings


def actor(request: Request) -> Actor | None:
    """Who is logged in through the cookie, checked as the API checks a bearer token."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        with _db(request).unit_of_work(write=False) as session:
            found = auth_queries.actor_for_bearer(session, _secret(request), token)
    except CoopError:
        return None
    return found if found.kind == "user" else None


def may_act(request: Request, who: Actor) -> bool:
    """Whether this login may use the portal beyond setting up two-factor sign-in."""
    return bool(may_act_without_second_factor(who, settings_of(request).mode is Mode.production))


def log_in(request: Request, response: Response, user_id: int, role: str, generation: int) -> None:
    """Give this browser a login cookie: a token for the account, issued in the wall clock's
    time, which its check reads as well (never the request's moment, which may be another)."""
    minutes = settings_of(request).auth.token_minutes
    token, seconds = issue_token(_secret(request), f"user:{user_id}", role, minutes, generation, now=utcnow())
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=seconds,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
        path="/",
    )


def log_out(session: Session, who: Actor | None, response: Response) -> None:
    """End the login everywhere (every token of the account, as the API's logout does) and
    drop the cookie."""
    if who is not None:
        auth_service.end_logins(session, who.id)
    response.delete_cookie(SESSION_COOKIE, path="/")


def _csrf_seed(request: Request) -> str | None:
    return request.cookies.get(CSRF_COOKIE)


def csrf_token(request: Request, seed: str) -> str:
    return hmac.new(_secret(request), f"csrf:{seed}".encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, token: str | None) -> None:
    seed = _csrf_seed(request)
    if not seed or not token or not hmac.compare_digest(csrf_token(request, seed), token):
        raise Forbidden("the form has expired or did not come from this site; reload the page", code="csrf")


def language(request: Request, member_language: str | None = None) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    remembered = request.cookies.get(LANG_COOKIE)
    if remembered in LANGUAGES:
        return remembered
    return language_or_default(member_language)


def render(
    request: Request,
    name: str,
    who: Actor | None,
    lang: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    seed = _csrf_seed(request) or secrets.token_urlsafe(32)
    context.setdefault("saved", "saved" in request.query_params)  # after a form: how it went
    context.setdefault("acting", None)  # a proxy's pages for a member name whom they act for
    # a code, never text: a link cannot make the page say what the cooperative did not write
    context["error"] = refusal_text(context.get("error") or request.query_params.get("error"), lang)
    html = templates.get_template(name).render(
        request=request,
        who=who,
        lang=lang,
        csrf=csrf_token(request, seed),
        t=translator(lang),
        label=lambda value: label(value, lang),
        local_time=lambda moment: local_time(moment, lang),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    if _csrf_seed(request) is None:
        response.set_cookie(
            CSRF_COOKIE, seed, httponly=True, secure=request.url.scheme == "https", samesite="strict", path="/"
        )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", path="/")
    response.headers["Cache-Control"] = "no-store"
    return response


def refusal_code(code: str) -> str:
    """The code a page is sent back with after a refused change: the service's own when the
    portal can explain it, else the general one."""
    return code if code in REFUSALS else "failed"


def refusal_text(code: str | None, lang: str) -> str | None:
    """What the page says for a refusal code, in the visitor's language; nothing for codes
    the portal does not know."""
    key = REFUSALS.get(code or "")
    return translator(lang)(key) if key else None


def refused(back: str, code: str) -> RedirectResponse:
    """Back to the page the form came from, which says why (by code) nothing changed."""
    return redirect(f"{back}?{urlencode({'error': refusal_code(code)})}")


def unavailable(lang: str) -> str:
    t = translator(lang)
    return t("unavailable")


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
