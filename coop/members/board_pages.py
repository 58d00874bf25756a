"""Page: one member as the board sees them: status, erasure, choices in summary, proxies both
ways, with the board's actions on the member's request (a new invitation, leaving, name and
email, and a former member's request by letter to erase their details now)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import or_, select
from sqlmodel import col

from coop.access.models import AccessWhat
from coop.access.service import Read, record_apart
from coop.auth.models import UserAccount
from coop.auth.policy import Permission
from coop.choices import encoding
from coop.choices import queries as choices_queries
from coop.deps import DatabaseDep, MemberId, Now, ReadSession, SettingsDep, WriteSession
from coop.errors import Invalid
from coop.members import erasure, queries, service
from coop.members.models import MemberStatus, member_number
from coop.portal import web
from coop.portal.deps import CSRF, Viewer, viewer_with
from coop.proxies.models import ProxyAppointment
from coop.proxies.queries import proxy_number, valid_at
from coop.vocabulary.terms import ALL_PURPOSES, Category, Purpose, from_mask

router = APIRouter(include_in_schema=False)
Board = Annotated[Viewer, viewer_with(Permission.read_any_member)]
Managing = Annotated[Viewer, viewer_with(Permission.manage_any_member)]


@router.get("/board/members/{member_id}", response_class=HTMLResponse)
def member_page(
    request: Request,
    member_id: MemberId,
    viewer: Board,
    session: ReadSession,
    settings: SettingsDep,
    now: Now,
    db: DatabaseDep,
) -> Response:
    member = queries.get_for(session, viewer.actor, member_id)
    has_login = session.execute(
        select(col(UserAccount.id)).where(
            col(UserAccount.member_id) == member_id, col(UserAccount.disabled_at).is_(None)
        )
    ).first()
    choices = choices_queries.read(session, viewer.actor, member_id, now)
    appointments = session.execute(
        select(ProxyAppointment)
        .where(
            or_(col(ProxyAppointment.principal_id) == member_id, col(ProxyAppointment.proxy_member_id) == member_id),
            valid_at(now),
        )
        .order_by(col(ProxyAppointment.id))
    ).scalars()

    def shown(a: ProxyAppointment, number: str) -> dict[str, object]:
        purposes = [p.value for p in from_mask(Purpose, a.purposes_mask)]
        return {"number": number, "purposes": purposes, "all": a.purposes_mask == ALL_PURPOSES}

    given, held = [], []
    for a in appointments:
        if a.principal_id == member_id:
            given.append(shown(a, proxy_number(a)))
        else:
            held.append(shown(a, member_number(a.principal_id)))
    record_apart(db, viewer.actor, Read(AccessWhat.member_page, member_id=member_id), now)
    return web.render(
        request,
        "board_member.html",
        viewer.actor,
        viewer.lang,
        member=member,
        last_year=now.year - 1,
        active=member.status == MemberStatus.active.value,
        has_login=has_login is not None,
        opted_out=choices.opt_out,
        own_choices=[(p.value, u.value, pref.value) for p, u, pref in encoding.explicit(choices.preference_mask)],
        excluded=[c.value for c in from_mask(Category, choices.excluded_mask)],
        sensitive_yes=[c.value for c in from_mask(Category, choices.sensitive_yes_mask)],
        donates=bool(choices.donate_dividend),
        given=given,
        held=held,
        name_until=erasure.name_erased_from(member, settings.privacy.retention_years),
    )


@router.post("/board/members/{member_id}/leave", dependencies=[CSRF])
def leave_on_request(
    request: Request,
    member_id: MemberId,
    viewer: Managing,
    session: WriteSession,
    now: Now,
    asked: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The member leaves because they asked the board to: the board ticks that they did."""
    request.state.back = f"/board/members/{member_id}"
    if asked != "yes":
        raise Invalid("tick that the member asked for this", code="not-confirmed", field="asked")
    service.leave(session, viewer.actor, member_id, now)
    return web.redirect(f"/board/members/{member_id}?saved=1")


@router.post("/board/members/{member_id}/erasure-request", dependencies=[CSRF])
def erasure_on_request(
    request: Request,
    member_id: MemberId,
    viewer: Managing,
    session: WriteSession,
    now: Now,
    asked: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """A former member asked (by letter) to erase their details now: the board ticks that they did."""
    request.state.back = f"/board/members/{member_id}"
    if asked != "yes":
        raise Invalid("tick that the former member asked for this", code="not-confirmed", field="asked")
    erasure.request(session, viewer.actor, member_id, now)
    return web.redirect(f"/board/members/{member_id}?saved=1")
