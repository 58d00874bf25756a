"""Pages: the permits that used a member's data with their results, and the board's permit
register with compliance flags, each permit's page (extend, revoke, register a result)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import col

from coop.auth.policy import Actor, Permission, has
from coop.deps import ID_MAX, Now, ReadSession, SettingsDep, WriteSession
from coop.errors import Invalid
from coop.i18n import HOME_ZONE
from coop.permits import rules, service, usage
from coop.permits.models import Manifest
from coop.permits.schemas import ResultIn
from coop.portal import web
from coop.portal.deps import CSRF, AnyViewer, PageMember, Viewer, page_require, viewer_with
from coop.types import CleanStr
from coop.vocabulary.terms import Category, Purpose, from_mask
from ledger import canonical

router = APIRouter(include_in_schema=False)


@router.get("/me/data-use", response_class=HTMLResponse)
def data_use_page(request: Request, viewer: AnyViewer, member: PageMember, session: ReadSession, now: Now) -> Response:
    rows = usage.permits_using(session, member.id or 0)
    results = usage.results_of(session, [p.id for p, _ in rows if p.id is not None])
    uses = [
        {
            "number": p.permit_number,
            "applicant": p.applicant,
            "user_type": p.user_type,
            "purposes": [x.value for x in from_mask(Purpose, p.purposes_mask)],
            "status": rules.status_of(p, now).value,
            "since": since,
            "results": results.get(p.id or 0, []),
        }
        for p, since in rows
    ]
    return web.render(request, "data_use.html", viewer.actor, viewer.lang, uses=uses)


@router.get("/board/permits", response_class=HTMLResponse)
def permits_page(
    request: Request,
    viewer: Annotated[Viewer, viewer_with(Permission.read_all_permits)],
    session: ReadSession,
    settings: SettingsDep,
    now: Now,
) -> Response:
    permits = [
        {
            "id": p.id,
            "number": p.permit_number,
            "applicant": p.applicant,
            "user_type": p.user_type,
            "status": rules.status_of(p, now).value,
            "flags": [(f.rule, f.article) for f in usage.compliance(session, p, settings, now)],
        }
        for p in service.listing(session, viewer.actor)
    ]
    return web.render(request, "board_permits.html", viewer.actor, viewer.lang, permits=permits)


PermitId = Annotated[int, Path(ge=1, le=ID_MAX)]
Registering = Annotated[Actor, Depends(page_require(Permission.register_permits))]


def _moment(value: str, field: str) -> datetime:
    """A ``datetime-local`` field, in Dutch time."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=HOME_ZONE)
    except ValueError:
        raise Invalid(f"{field} is not a date and time", code="invalid-moment", field=field) from None


@router.get("/board/permits/{permit_id}", response_class=HTMLResponse)
def permit_page(
    request: Request,
    viewer: Annotated[Viewer, viewer_with(Permission.read_all_permits)],
    session: ReadSession,
    settings: SettingsDep,
    now: Now,
    permit_id: PermitId,
) -> Response:
    """One permit: what it allows, its groups, what was reported under it, its results and its
    flags; with the board's forms to extend or revoke it and to register a result."""
    permit = service.get(session, viewer.actor, permit_id)
    manifests = session.execute(
        select(Manifest).where(col(Manifest.permit_id) == permit_id).order_by(col(Manifest.id))
    ).scalars()
    return web.render(
        request,
        "board_permit.html",
        viewer.actor,
        viewer.lang,
        permit=permit,
        purposes=[x.value for x in from_mask(Purpose, permit.purposes_mask)],
        categories=[x.value for x in from_mask(Category, permit.categories_mask)],
        holders=canonical.loads(permit.data_holders),
        status=rules.status_of(permit, now).value,
        ends=rules.ends_at(permit.valid_until, permit.extended_until),
        manifests=list(manifests),
        usage=usage.usage_of(session, permit_id),
        results=usage.results_of(session, [permit_id])[permit_id],
        flags=usage.compliance(session, permit, settings, now),
        may_change=has(viewer.actor, Permission.register_permits),
        result_kinds=[k.value for k in usage.ResultKind],
    )


@router.post("/board/permits/{permit_id}/extend", dependencies=[CSRF])
def extend_permit(
    request: Request,
    who: Registering,
    session: WriteSession,
    now: Now,
    permit_id: PermitId,
    valid_until: Annotated[str, Form(max_length=40)],
) -> Response:
    request.state.back = f"/board/permits/{permit_id}"
    service.extend(session, who, permit_id, _moment(valid_until, "valid_until"), now)
    return web.redirect(f"/board/permits/{permit_id}?saved=1")


@router.post("/board/permits/{permit_id}/revoke", dependencies=[CSRF])
def revoke_permit(
    request: Request,
    who: Registering,
    session: WriteSession,
    now: Now,
    permit_id: PermitId,
    reason: Annotated[CleanStr, Form(min_length=1, max_length=2000)],
    sure: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Revoking cannot be undone: the form asks to tick that the board is sure."""
    request.state.back = f"/board/permits/{permit_id}"
    if sure != "yes":
        raise Invalid("tick that you are sure", code="not-confirmed", field="sure")
    service.revoke(session, who, permit_id, reason, now)
    return web.redirect(f"/board/permits/{permit_id}?saved=1")


@router.post("/board/permits/{permit_id}/results", dependencies=[CSRF])
def register_result(
    request: Request,
    who: Registering,
    session: WriteSession,
    now: Now,
    permit_id: PermitId,
    kind: Annotated[str, Form(max_length=20)],
    title: Annotated[str, Form(max_length=500)],
    url: Annotated[str, Form(max_length=2000)],
    published_at: Annotated[str, Form(max_length=40)],
    open_access: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """A result of the permit (a publication, a dataset, software, a policy output)."""
    request.state.back = f"/board/permits/{permit_id}"
    try:
        given = ResultIn(
            kind=kind,
            title=title,
            url=url,
            published_at=_moment(published_at, "published_at"),
            open_access=open_access == "on",
        )
    except ValidationError:
        raise Invalid(
            "the result is not complete or its link is not a web address or DOI", code="invalid-result"
        ) from None
    permit = service.get(session, who, permit_id)
    usage.register_result(
        session,
        who,
        permit,
        usage.ResultKind(given.kind),
        given.title,
        given.url,
        given.published_at,
        given.open_access,
        now,
    )
    return web.redirect(f"/board/permits/{permit_id}?saved=1")
