"""Pages: the permits that used a member's data with their results (for the member, and for
their proxy acting for them), and the board's permit
register with compliance flags, each permit's page (extend, revoke, register a result)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session, col
from starlette.datastructures import FormData

from coop.access.models import AccessWhat
from coop.auth.policy import Actor, Permission, has
from coop.deps import ID_MAX, DatabaseDep, Now, ReadSession, SettingsDep, WriteSession
from coop.errors import CoopError, Invalid
from coop.i18n import N_, translator
from coop.permits import rules, service, usage
from coop.permits.models import Manifest
from coop.permits.schemas import PermitIn, ResultIn
from coop.portal import web
from coop.portal.deps import CSRF, AnyViewer, PageForm, PageMember, Viewer, page_require, viewer_with
from coop.portal.forms import cents_of, local_field, moment_of
from coop.proxies.acting import acting, seen
from coop.types import CleanStr
from coop.vocabulary.terms import Category, Purpose, UserType, from_mask
from ledger import canonical

router = APIRouter(include_in_schema=False)


@router.get("/me/data-use", response_class=HTMLResponse)
def data_use_page(request: Request, viewer: AnyViewer, member: PageMember, session: ReadSession, now: Now) -> Response:
    uses = _uses(session, member.id or 0, now)
    return web.render(request, "data_use.html", viewer.actor, viewer.lang, uses=uses)


@router.get("/acting-for/{appointment_id}/data-use", response_class=HTMLResponse)
def acting_data_use_page(
    request: Request,
    viewer: AnyViewer,
    session: ReadSession,
    now: Now,
    appointment_id: Annotated[int, Path(ge=1, le=ID_MAX)],
    db: DatabaseDep,
) -> Response:
    """The member's data use as their proxy sees it, under an appointment in force."""
    act = acting(session, viewer.actor, appointment_id, now)
    uses = _uses(session, act.principal_id, now)
    seen(db, viewer, act, AccessWhat.data_use, now)
    return web.render(request, "data_use.html", viewer.actor, viewer.lang, uses=uses, acting=act)


def _uses(session: Session, member_id: int, now: datetime) -> list[dict[str, Any]]:
    """The permits whose manifests included the member, with their results, as the page shows them."""
    rows = usage.permits_using(session, member_id)
    results = usage.results_of(session, [p.id for p, _ in rows if p.id is not None])
    return [
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
    may_register = has(viewer.actor, Permission.register_permits)
    return web.render(
        request, "board_permits.html", viewer.actor, viewer.lang, permits=permits, may_register=may_register
    )


PermitId = Annotated[int, Path(ge=1, le=ID_MAX)]
Registering = Annotated[Actor, Depends(page_require(Permission.register_permits))]
RegisteringViewer = Annotated[Viewer, viewer_with(Permission.register_permits)]


PERMIT_FIELDS: dict[str, str] = {
    "permit_number": N_("permit_field_number"),
    "applicant": N_("permit_field_applicant"),
    "user_type": N_("permit_field_user_type"),
    "purposes": N_("permit_field_purposes"),
    "categories": N_("permit_field_categories"),
    "authorised_persons": N_("permit_field_persons"),
    "conditions": N_("permit_field_conditions"),
    "data_holders": N_("permit_field_holders"),
    "approved_at": N_("permit_field_approved"),
    "valid_from": N_("permit_field_from"),
    "valid_until": N_("permit_field_until"),
    "fee": N_("permit_field_fee"),
    "benefit_share_pct": N_("permit_field_share"),
    "consultation_id": N_("permit_field_consultation"),
}
"""The registration form's fields, and what the page says beside one that is wrong."""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _permit_body(form: FormData) -> tuple[dict[str, Any], set[str]]:
    """The permit as ``POST /permits`` takes it, from the form; and the fields that could not be read."""
    wrong: set[str] = set()
    body: dict[str, Any] = {
        "permit_number": str(form.get("permit_number", "")).strip(),
        "applicant": str(form.get("applicant", "")),
        "user_type": str(form.get("user_type", "")),
        "purposes": [str(v) for v in form.getlist("purposes")],
        "categories": [str(v) for v in form.getlist("categories")],
        "authorised_persons": _lines(str(form.get("authorised_persons", ""))),
        "conditions": str(form.get("conditions", "")),
        "data_holders": _lines(str(form.get("data_holders", ""))),
        "benefit_share_pct": str(form.get("benefit_share_pct", "")).strip(),
        "on_behalf_of_public_body": form.get("on_behalf_of_public_body") == "on",
    }
    for name in ("approved_at", "valid_from", "valid_until"):
        try:
            body[name] = moment_of(str(form.get(name, "")), name).astimezone(UTC).isoformat()
        except Invalid:
            wrong.add(name)
    try:
        body["fee_cents"] = cents_of(str(form.get("fee", "")), "fee")
    except Invalid:
        wrong.add("fee")
    consultation = str(form.get("consultation_id", "")).strip()
    body["consultation_id"] = consultation or None
    return body, wrong


def _registration(
    request: Request,
    viewer: Viewer,
    values: Mapping[str, Any],
    wrong: set[str],
    status: int = 200,
    refusal: str | None = None,
) -> Response:
    t = translator(viewer.lang)
    return web.render(
        request,
        "board_permit_new.html",
        viewer.actor,
        viewer.lang,
        status_code=status,
        values=values,
        errors={name: t(PERMIT_FIELDS[name]) for name in wrong if name in PERMIT_FIELDS},
        user_types=[u.value for u in UserType],
        all_purposes=[p.value for p in Purpose],
        all_categories=[c.value for c in Category],
        error=refusal,
    )


@router.get("/board/permits/new", response_class=HTMLResponse)
def new_permit_page(request: Request, viewer: RegisteringViewer, now: Now) -> Response:
    """Register a permit the HDAB granted, as the HDAB does through the API."""
    start = local_field(now)
    values = {"approved_at": start, "valid_from": start, "purposes": [], "categories": []}
    return _registration(request, viewer, values, set())


@router.post("/board/permits/new", response_class=HTMLResponse, dependencies=[CSRF])
def register_permit(
    request: Request, viewer: RegisteringViewer, session: WriteSession, now: Now, form: PageForm
) -> Response:
    """The permit, registered (or the one registered under this number with the same contents);
    or the form again, each wrong field said beside it."""
    request.state.back = "/board/permits/new"
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    values["purposes"], values["categories"] = form.getlist("purposes"), form.getlist("categories")
    body, wrong = _permit_body(form)
    try:
        given = PermitIn.model_validate(body)
    except ValidationError as exc:
        wrong |= {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        wrong = {"fee" if name == "fee_cents" else name for name in wrong}
        return _registration(request, viewer, values, wrong, 422)
    if wrong:
        return _registration(request, viewer, values, wrong, 422)
    try:
        permit, _ = service.register(session, viewer.actor, given.new(), now)
    except CoopError as exc:  # the form again, saying why above it and marking the field
        session.rollback()
        field = exc.extra.get("field")
        marked = {field} if isinstance(field, str) else set()
        return _registration(request, viewer, values, marked, exc.status, exc.code)
    return web.redirect(f"/board/permits/{permit.id}?saved=1")


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
    service.extend(session, who, permit_id, moment_of(valid_until, "valid_until"), now)
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
            published_at=moment_of(published_at, "published_at"),
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
