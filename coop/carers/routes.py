"""HTTP: a carer (a proxy who is not a member) answers the members who ask them, and steps
down. The carer is the logged-in person (``/carers/me``); acting for a member then uses the
member's own routes (their choices, votes on their behalf), like any proxy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import select
from sqlmodel import col

from coop.deps import ID_MAX, CurrentActor, Now, ReadSession, WriteSession
from coop.errors import Forbidden
from coop.openapi import problems
from coop.proxies import service
from coop.proxies.models import ProxyAppointment
from coop.proxies.schemas import ProxyOut

router = APIRouter(prefix="/carers/me", tags=["proxies"])
AppointmentId = Annotated[int, Path(ge=1, le=ID_MAX)]


@router.get("/acting-for", response_model=list[ProxyOut], summary="The appointments asking or naming me (a carer)")
def listing(session: ReadSession, actor: CurrentActor, now: Now) -> list[ProxyOut]:
    if actor.carer_id is None:
        raise Forbidden("only a carer's login has appointments here; members use their own", code="not-a-carer")
    rows = session.execute(
        select(ProxyAppointment)
        .where(col(ProxyAppointment.proxy_carer_id) == actor.carer_id)
        .order_by(col(ProxyAppointment.id))
    ).scalars()
    return [ProxyOut.of(a, now) for a in rows]


@router.post(
    "/acting-for/{appointment_id}/accept",
    response_model=ProxyOut,
    summary="Accept an appointment (a carer): it is in force from now on, and the member is told",
    responses=problems({404: "proxy-not-found", 409: "proxy-answered, proxy-ended"}),
)
def accept(appointment_id: AppointmentId, session: WriteSession, actor: CurrentActor, now: Now) -> ProxyOut:
    return ProxyOut.of(service.accept(session, actor, None, appointment_id, now), now)


@router.post(
    "/acting-for/{appointment_id}/decline",
    response_model=ProxyOut,
    summary="Decline an appointment (a carer): it ends unaccepted, and the member is told",
    responses=problems({404: "proxy-not-found", 409: "proxy-answered, proxy-ended"}),
)
def decline(appointment_id: AppointmentId, session: WriteSession, actor: CurrentActor, now: Now) -> ProxyOut:
    return ProxyOut.of(service.decline(session, actor, None, appointment_id, now), now)


@router.post(
    "/acting-for/{appointment_id}/step-down",
    response_model=ProxyOut,
    summary="Step down (a carer): the appointment ends now and the member is told",
    responses=problems({404: "proxy-not-found"}),
)
def step_down(appointment_id: AppointmentId, session: WriteSession, actor: CurrentActor, now: Now) -> ProxyOut:
    return ProxyOut.of(service.step_down(session, actor, None, appointment_id, now), now)
