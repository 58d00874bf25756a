"""HTTP: appointing, listing and revoking proxies (the member themselves)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from coop.carers import invite
from coop.carers.service import NewCarer
from coop.deps import ID_MAX, CurrentActor, MemberId, Now, ReadSession, SettingsDep, WriteSession
from coop.openapi import problems
from coop.proxies import service
from coop.proxies.schemas import ProxyIn, ProxyOut

router = APIRouter(prefix="/members", tags=["proxies"])


@router.post(
    "/{member_id}/proxies",
    response_model=ProxyOut,
    status_code=201,
    summary="Appoint a proxy (the member): in force once the proxy accepts",
    responses=problems({409: "proxy-overlap, proxy-cycle, proxy-chain-too-deep, carer-email-taken"}),
)
def appoint(
    member_id: MemberId, body: ProxyIn, session: WriteSession, actor: CurrentActor, settings: SettingsDep, now: Now
) -> ProxyOut:
    if body.carer is not None:
        new = NewCarer(body.carer.name, str(body.carer.email), body.carer.language)
        appointment = invite.appoint_carer(
            session, actor, settings, member_id, new, body.purposes, body.valid_until, body.voting, now, body.show_name
        )
        return ProxyOut.of(appointment, now)
    assert body.proxy_member_id is not None
    appointment = service.appoint(
        session,
        actor,
        member_id,
        body.proxy_member_id,
        body.purposes,
        body.valid_until,
        body.voting,
        settings.choices.proxy_max_depth,
        now,
        body.show_name,
    )
    return ProxyOut.of(appointment, now)


@router.get("/{member_id}/proxies", response_model=list[ProxyOut], summary="Proxies given and held (the member)")
def listing(member_id: MemberId, session: ReadSession, actor: CurrentActor, now: Now) -> list[ProxyOut]:
    return [ProxyOut.of(a, now) for a in service.listing(session, actor, member_id)]


@router.post(
    "/{member_id}/proxies/{proxy_id}/revoke", response_model=ProxyOut, summary="Revoke a proxy now (the member)"
)
def revoke(
    member_id: MemberId,
    proxy_id: Annotated[int, Path(ge=1, le=ID_MAX)],
    session: WriteSession,
    actor: CurrentActor,
    now: Now,
) -> ProxyOut:
    return ProxyOut.of(service.revoke(session, actor, member_id, proxy_id, now), now)


AppointmentId = Annotated[int, Path(ge=1, le=ID_MAX)]


def _as_the_proxy(answer: service.ProxyAnswer, summary: str, conflicts: str | None = None) -> None:
    """A route by which the proxy answers an appointment made to them: step down, accept or decline."""

    def endpoint(
        member_id: MemberId, appointment_id: AppointmentId, session: WriteSession, actor: CurrentActor, now: Now
    ) -> ProxyOut:
        return ProxyOut.of(answer(session, actor, member_id, appointment_id, now), now)

    endpoint.__name__ = answer.__name__  # the operation id stays step_down_..., accept_..., decline_...
    errors = {404: "proxy-not-found"} | ({409: conflicts} if conflicts else {})
    path = f"/{{member_id}}/acting-for/{{appointment_id}}/{answer.__name__.replace('_', '-')}"
    router.post(path, response_model=ProxyOut, summary=summary, responses=problems(errors))(endpoint)


_as_the_proxy(service.step_down, "Step down as a proxy (the proxy): the appointment ends now and the member is told")
_as_the_proxy(
    service.accept,
    "Accept an appointment as proxy (the proxy): it is in force from now on, and the member is told",
    "proxy-answered, proxy-ended",
)
_as_the_proxy(
    service.decline,
    "Decline an appointment as proxy (the proxy): it ends unaccepted, and the member is told",
    "proxy-answered, proxy-ended",
)
