"""Pages: the proxies a member appointed, appointing one and revoking one; the members who
ask them to act for them (accepting or declining), those they act for, and stepping down."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlmodel import Session, col

from coop.auth.policy import Permission, has
from coop.carers import invite
from coop.carers import service as carers
from coop.carers.service import NewCarer
from coop.deps import ID_MAX, Now, ReadSession, SettingsDep, WriteSession
from coop.errors import Forbidden
from coop.i18n import Language
from coop.members.models import Member, member_number, parse_member_number
from coop.portal import web
from coop.portal.deps import CSRF, AnyViewer, PageActor, PageForm, PageMemberId, Viewer, back_to
from coop.proxies import queries, service
from coop.proxies.models import ProxyAppointment
from coop.vocabulary.terms import ALL_PURPOSES, Purpose, from_mask

router = APIRouter(include_in_schema=False)
AppointmentId = Annotated[int, Path(ge=1, le=ID_MAX)]
PURPOSES = {p.value for p in Purpose}
_EMAIL = TypeAdapter(EmailStr)


def _number(a: ProxyAppointment) -> str:
    return member_number(a.principal_id)


def _shown(a: ProxyAppointment, other: int | str) -> dict[str, object]:
    """An appointment as the page shows it, naming the other side by member number (or a
    carer, to the member who appointed them, by name)."""
    return {
        "id": a.id,
        "number": member_number(other) if isinstance(other, int) else other,
        "purposes": [p.value for p in from_mask(Purpose, a.purposes_mask)],
        "all": a.purposes_mask == ALL_PURPOSES,
        "voting": a.voting,
    }


def _proxy_member_id(actor: PageActor) -> int | None:
    """The proxy answering on these pages: a member (their id), or a carer (None: the service
    finds their appointments by the carer the login belongs to)."""
    if actor.carer_id is None and actor.member_id is None:
        raise Forbidden("this page is for members and carers", code="not-a-member")
    return actor.member_id


ProxyMemberId = Annotated[int | None, Depends(_proxy_member_id)]


def _carer_page(request: Request, viewer: Viewer, session: Session, now: datetime) -> Response:
    """A carer's page: the members who ask them, and those they act for (no appointments of
    their own: a carer is no member)."""
    mine = list(
        session.execute(
            select(ProxyAppointment)
            .where(col(ProxyAppointment.proxy_carer_id) == viewer.actor.carer_id)
            .order_by(col(ProxyAppointment.id))
        ).scalars()
    )
    return _answers_page(request, viewer, session, now, mine, [], carer=True)


def _answers_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    now: datetime,
    mine: list[ProxyAppointment],
    appointments: list[dict[str, object]],
    carer: bool,
) -> Response:
    held = [a for a in mine if service.is_valid_at(a, now)]
    names = queries.shown_names(session, [a for a in held if a.show_name])
    return web.render(
        request,
        "proxies.html",
        viewer.actor,
        viewer.lang,
        carer=carer,
        appointments=appointments,
        purposes=[p.value for p in Purpose],
        asked=[_shown(a, a.principal_id) for a in mine if service.is_waiting(a, now)],
        held=[_shown(a, a.principal_id) | {"who": names.get(a.principal_id, _number(a))} for a in held],
    )


@router.get("/me/proxies", response_class=HTMLResponse)
def proxies_page(request: Request, viewer: AnyViewer, session: ReadSession, now: Now) -> Response:
    if viewer.actor.carer_id is not None and has(viewer.actor, Permission.act_as_proxy):
        return _carer_page(request, viewer, session, now)
    member = session.get(Member, viewer.actor.member_id) if viewer.actor.member_id else None
    if member is None or not has(viewer.actor, Permission.read_own_record):
        raise Forbidden("this page is for members", code="not-a-member")
    assert member.id is not None
    everything = service.listing(session, viewer.actor, member.id)
    appointments = [a for a in everything if a.principal_id == member.id]
    mine = [a for a in everything if a.proxy_member_id == member.id]
    carers_named = {a.id or 0: carers.name_of(session, a.proxy_carer_id) for a in appointments if a.proxy_carer_id}
    shown = [
        _shown(a, a.proxy_member_id if a.proxy_member_id is not None else carers_named[a.id or 0])
        | {"active": service.is_valid_at(a, now), "waiting": service.is_waiting(a, now)}
        for a in appointments
    ]
    return _answers_page(request, viewer, session, now, mine, shown, carer=False)


@router.post("/me/proxies", dependencies=[CSRF, back_to("/me/proxies")])
def appoint_proxy(
    request: Request,
    form: PageForm,
    who: PageActor,
    member_id: PageMemberId,
    session: WriteSession,
    settings: SettingsDep,
    now: Now,
) -> Response:
    purposes = [Purpose(v) for v in form.getlist("purposes") if v in PURPOSES] or None
    voting, show_name = form.get("voting") == "on", form.get("show_name") == "on"
    if form.get("kind") == "carer":
        name, email = str(form.get("carer_name") or "").strip(), str(form.get("carer_email") or "").strip()
        if not name or len(name) > 200 or not email or len(email) > 320 or not _email_ok(email):
            return web.refused("/me/proxies", "carer-details")
        new = NewCarer(name, email, Language(web.language(request)))  # the language they are asked in
        invite.appoint_carer(session, who, settings, member_id, new, purposes, None, voting, now, show_name)
        return web.redirect("/me/proxies?saved=1")
    proxy_id = parse_member_number(str(form.get("proxy") or ""))
    if proxy_id is None:
        return web.refused("/me/proxies", "not-a-member-number")
    depth = settings.choices.proxy_max_depth
    service.appoint(session, who, member_id, proxy_id, purposes, None, voting, depth, now, show_name)
    return web.redirect("/me/proxies?saved=1")


def _email_ok(email: str) -> bool:
    try:
        _EMAIL.validate_python(email)
    except ValidationError:
        return False
    return True


@router.post("/me/proxies/{appointment_id}/revoke", dependencies=[CSRF, back_to("/me/proxies")])
def revoke_proxy(
    who: PageActor,
    member_id: PageMemberId,
    session: WriteSession,
    now: Now,
    appointment_id: Annotated[int, Path(ge=1, le=ID_MAX)],
) -> Response:
    service.revoke(session, who, member_id, appointment_id, now)
    return web.redirect("/me/proxies?saved=1")


def _answer_page(answer: service.ProxyAnswer, then: Callable[[int], str]) -> None:
    """The proxy's own buttons on /me/proxies: the service decides, the page moves on to ``then``."""

    def endpoint(
        who: PageActor, member_id: ProxyMemberId, session: WriteSession, now: Now, appointment_id: AppointmentId
    ) -> Response:
        answer(session, who, member_id, appointment_id, now)
        return web.redirect(then(appointment_id))

    endpoint.__name__ = answer.__name__
    path = f"/me/acting-for/{{appointment_id}}/{answer.__name__.replace('_', '-')}"
    router.post(path, dependencies=[CSRF, back_to("/me/proxies")])(endpoint)


# Step down: the member is told and their choices fall back to the mandate. Accept: from now
# on the proxy acts for them (the page goes to acting for them). Decline: the member is told,
# and the mandate goes on deciding for them.
_answer_page(service.step_down, lambda _: "/me/proxies?saved=1")
_answer_page(service.accept, lambda appointment_id: f"/acting-for/{appointment_id}")
_answer_page(service.decline, lambda _: "/me/proxies?saved=1")
