"""Pages: the proxies a member appointed, appointing one and revoking one; the members who
ask them to act for them (accepting or declining), those they act for, and stepping down."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from coop.deps import ID_MAX, Now, ReadSession, SettingsDep, WriteSession
from coop.members.models import member_number, parse_member_number
from coop.portal import web
from coop.portal.deps import CSRF, AnyViewer, PageActor, PageForm, PageMember, PageMemberId, back_to
from coop.proxies import queries, service
from coop.proxies.models import ProxyAppointment
from coop.vocabulary.terms import ALL_PURPOSES, Purpose, from_mask

router = APIRouter(include_in_schema=False)
PURPOSES = {p.value for p in Purpose}


def _number(a: ProxyAppointment) -> str:
    return member_number(a.principal_id)


def _shown(a: ProxyAppointment, other: int) -> dict[str, object]:
    """An appointment as the page shows it, naming the other side by member number."""
    return {
        "id": a.id,
        "number": member_number(other),
        "purposes": [p.value for p in from_mask(Purpose, a.purposes_mask)],
        "all": a.purposes_mask == ALL_PURPOSES,
        "voting": a.voting,
    }


@router.get("/me/proxies", response_class=HTMLResponse)
def proxies_page(request: Request, viewer: AnyViewer, member: PageMember, session: ReadSession, now: Now) -> Response:
    assert member.id is not None
    everything = service.listing(session, viewer.actor, member.id)
    appointments = [a for a in everything if a.principal_id == member.id]
    mine = [a for a in everything if a.proxy_member_id == member.id]
    held = [a for a in mine if service.is_valid_at(a, now)]
    names = queries.shown_names(session, [a for a in held if a.show_name])
    return web.render(
        request,
        "proxies.html",
        viewer.actor,
        viewer.lang,
        appointments=[
            _shown(a, a.proxy_member_id)
            | {"active": service.is_valid_at(a, now), "waiting": service.is_waiting(a, now)}
            for a in appointments
        ],
        purposes=[p.value for p in Purpose],
        asked=[_shown(a, a.principal_id) for a in mine if service.is_waiting(a, now)],
        held=[_shown(a, a.principal_id) | {"who": names.get(a.principal_id, _number(a))} for a in held],
    )


@router.post("/me/proxies", dependencies=[CSRF, back_to("/me/proxies")])
def appoint_proxy(
    form: PageForm, who: PageActor, member_id: PageMemberId, session: WriteSession, settings: SettingsDep, now: Now
) -> Response:
    proxy_id = parse_member_number(str(form.get("proxy") or ""))
    if proxy_id is None:
        return web.refused("/me/proxies", "not-a-member-number")
    purposes = [Purpose(v) for v in form.getlist("purposes") if v in PURPOSES] or None
    depth = settings.choices.proxy_max_depth
    voting, show_name = form.get("voting") == "on", form.get("show_name") == "on"
    service.appoint(session, who, member_id, proxy_id, purposes, None, voting, depth, now, show_name)
    return web.redirect("/me/proxies?saved=1")


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


@router.post("/me/acting-for/{appointment_id}/step-down", dependencies=[CSRF, back_to("/me/proxies")])
def step_down(
    who: PageActor,
    member_id: PageMemberId,
    session: WriteSession,
    now: Now,
    appointment_id: Annotated[int, Path(ge=1, le=ID_MAX)],
) -> Response:
    """Stop acting for a member: they are told, and their choices fall back to the mandate."""
    service.step_down(session, who, member_id, appointment_id, now)
    return web.redirect("/me/proxies?saved=1")


@router.post("/me/acting-for/{appointment_id}/accept", dependencies=[CSRF, back_to("/me/proxies")])
def accept(
    who: PageActor,
    member_id: PageMemberId,
    session: WriteSession,
    now: Now,
    appointment_id: Annotated[int, Path(ge=1, le=ID_MAX)],
) -> Response:
    """Say yes to a member who asked: from now on the proxy acts for them."""
    service.accept(session, who, member_id, appointment_id, now)
    return web.redirect(f"/acting-for/{appointment_id}")


@router.post("/me/acting-for/{appointment_id}/decline", dependencies=[CSRF, back_to("/me/proxies")])
def decline(
    who: PageActor,
    member_id: PageMemberId,
    session: WriteSession,
    now: Now,
    appointment_id: Annotated[int, Path(ge=1, le=ID_MAX)],
) -> Response:
    """Say no to a member who asked: they are told, and the mandate goes on deciding for them."""
    service.decline(session, who, member_id, appointment_id, now)
    return web.redirect("/me/proxies?saved=1")
