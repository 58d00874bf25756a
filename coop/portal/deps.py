"""FastAPI dependencies of the portal's pages, beside the API's in :mod:`coop.deps`: the actor
from the login cookie (checked as the API checks a bearer token), the viewer's language, the
logged-in member, the CSRF check of every form, and where a refused form sends the browser
back to (or, for a public form, which template shows it again). A page takes its session
from :mod:`coop.deps` (``ReadSession``/``WriteSession``), so it is one unit of work, and its
refusals are turned into pages by one handler (:func:`coop.app.page_refusal`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from coop.auth.policy import Actor, Permission, has
from coop.deps import ReadSession
from coop.errors import Forbidden
from coop.members.models import Member
from coop.portal import web


class LoginRequired(Exception):
    """No valid login cookie: the page sends the visitor to log in (see :func:`install`)."""


class TwoFactorRequired(Exception):
    """A board user without two-factor sign-in in production mode: every page but setting it
    up sends them there (see :func:`install`)."""


def _enrolling_actor(who: Annotated[Actor | None, Depends(web.actor)]) -> Actor:
    if who is None:
        raise LoginRequired
    return who


EnrollingActor = Annotated[Actor, Depends(_enrolling_actor)]
"""Who is logged in, also a board user who must still switch on two-factor sign-in: only for
the page that sets it up."""


def _cookie_actor(request: Request, who: EnrollingActor) -> Actor:
    if not web.may_act(request, who):
        raise TwoFactorRequired
    return who


MaybeActor = Annotated[Actor | None, Depends(web.actor)]
"""Who is logged in through the cookie, if anyone."""
PageActor = Annotated[Actor, Depends(_cookie_actor)]
"""Who is logged in through the cookie; without a valid login the visitor is sent to log in."""


def page_require(permission: Permission) -> Callable[[Actor], Actor]:
    """A dependency giving the cookie's actor when their role has ``permission``, else 403."""

    def dependency(actor: PageActor) -> Actor:
        if not has(actor, permission):
            raise Forbidden(f"the {actor.role} role may not see this page ({permission})", code="forbidden")
        return actor

    return dependency


def _member(actor: Annotated[Actor, Depends(page_require(Permission.read_own_record))], session: ReadSession) -> Member:
    member = session.get(Member, actor.member_id) if actor.member_id else None
    if member is None:
        raise Forbidden("this page is for members", code="not-a-member")
    return member


PageMember = Annotated[Member, Depends(_member)]
"""The logged-in member (or former member), read in the page's own session."""


def _member_id(actor: PageActor) -> int:
    if actor.member_id is None:
        raise Forbidden("this page is for members", code="not-a-member")
    return actor.member_id


PageMemberId = Annotated[int, Depends(_member_id)]
"""The logged-in member's id, for a form: its service checks what they may change, as the API's does."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at a page, and in which language."""

    actor: Actor
    lang: str


def _viewer(request: Request, actor: PageActor, session: ReadSession) -> Viewer:
    lang = web.language(request)
    if actor.member_id is not None and "lang" not in request.query_params and web.LANG_COOKIE not in request.cookies:
        member = session.get(Member, actor.member_id)
        lang = web.language(request, member.language if member else None)
    return Viewer(actor, lang)


AnyViewer = Annotated[Viewer, Depends(_viewer)]


def viewer_with(permission: Permission) -> Any:
    """A page's viewer, once their role has ``permission`` (else 403)."""

    allowed = Depends(page_require(permission))

    def dependency(request: Request, actor: Actor = allowed) -> Viewer:
        return Viewer(actor, web.language(request))

    return Depends(dependency)


async def _form(request: Request) -> FormData:
    return await request.form()


PageForm = Annotated[FormData, Depends(_form)]
"""A form with fields named by the page (one per purpose and kind of user), read before the
page's work, which then runs as any other (off the event loop)."""


def _checked_csrf(request: Request, csrf: Annotated[str, Form(alias="csrf", max_length=200)]) -> None:
    web.check_csrf(request, csrf)


CSRF = Depends(_checked_csrf)
"""Every form: checked before anything else happens (put it first in ``dependencies``)."""


def back_to(path: str) -> Any:
    """Where a refused form sends the browser back to, with the refusal's code; the page there
    says why nothing changed. Declared after :data:`CSRF`, so a forged form is an error page."""

    def dependency(request: Request) -> None:
        request.state.back = path

    return Depends(dependency)


@dataclass(frozen=True, slots=True)
class FormAgain:
    """A public form shown again when refused (see :func:`form_again`)."""

    template: str
    fields: dict[str, str]
    """The form's fields as sent, to fill in again."""


def form_again(template: str, *fields: str) -> Any:
    """Where a refused form is shown again rather than sending the browser back (a public
    form: logging in, accepting an invitation): ``template``, given the sent ``fields``
    (a one-time token stays out of every address) and the refusal, which it says in the
    visitor's language. Declared after :data:`CSRF`, so a forged form is an error page."""

    async def dependency(request: Request) -> None:
        sent = await request.form()
        values = {name: sent.get(name) for name in fields}
        request.state.form_again = FormAgain(template, {k: v for k, v in values.items() if isinstance(v, str)})

    return Depends(dependency)


def install(app: FastAPI) -> None:
    """Send visitors without a login to the login page, and board users who must switch on
    two-factor sign-in to the page that does it."""

    async def to_login(_request: Request, _exc: Exception) -> Response:
        return web.redirect("/login")

    async def to_two_factor(_request: Request, _exc: Exception) -> Response:
        return web.redirect("/me/two-factor")

    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(TwoFactorRequired, to_two_factor)
