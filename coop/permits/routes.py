"""HTTP: the permit register."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlmodel import col

from coop.access.models import AccessWhat
from coop.access.service import Read, record_apart
from coop.auth.policy import Actor, Permission, require_own_record
from coop.db import Database
from coop.deps import (
    ID_MAX,
    CurrentActor,
    MemberId,
    Now,
    ReadSession,
    SettingsDep,
    WriteSession,
    get_database,
    require,
)
from coop.openapi import problems
from coop.permits import manifests, rules, service, usage
from coop.permits.models import Manifest
from coop.permits.schemas import (
    ComplianceOut,
    DataUseOut,
    ExtendIn,
    FlagOut,
    ManifestOut,
    PermitIn,
    PermitOut,
    ResultIn,
    ResultOut,
    RevokeIn,
    UsageIn,
    UsageOut,
)

router = APIRouter(prefix="/permits", tags=["permits"])
Registering = Annotated[Actor, Depends(require(Permission.register_permits))]
PermitId = Annotated[int, Path(ge=1, le=ID_MAX)]


@router.post(
    "",
    response_model=PermitOut,
    status_code=201,
    summary="Register a granted permit (HDAB, board)",
    responses=problems({409: "permit-differs (this number was registered with other contents)"}),
)
def register(body: PermitIn, session: WriteSession, actor: Registering, response: Response, now: Now) -> PermitOut:
    new = body.new()
    permit, written = service.register(session, actor, new, now)
    if not written:
        response.status_code = 200
    return PermitOut.of(permit, now)


@router.get(
    "", response_model=list[PermitOut], summary="Permits the caller may see (HDAB, board, auditor, data holder)"
)
def listing(session: ReadSession, actor: CurrentActor, now: Now) -> list[PermitOut]:
    return [PermitOut.of(p, now) for p in service.listing(session, actor)]


@router.get("/{permit_id}", response_model=PermitOut, summary="A permit (HDAB, board, auditor, its data holders)")
def read(permit_id: PermitId, session: ReadSession, actor: CurrentActor, now: Now) -> PermitOut:
    return PermitOut.of(service.get(session, actor, permit_id), now)


@router.post(
    "/{permit_id}/extend",
    response_model=PermitOut,
    summary="Extend once by at most 10 years (HDAB, board)",
    responses=problems({409: "already-extended, permit-expired, permit-revoked"}),
)
def extend(permit_id: PermitId, body: ExtendIn, session: WriteSession, actor: Registering, now: Now) -> PermitOut:
    return PermitOut.of(service.extend(session, actor, permit_id, body.valid_until, now), now)


@router.post("/{permit_id}/revoke", response_model=PermitOut, summary="Revoke now (HDAB, board)")
def revoke(permit_id: PermitId, body: RevokeIn, session: WriteSession, actor: Registering, now: Now) -> PermitOut:
    return PermitOut.of(service.revoke(session, actor, permit_id, body.reason, now), now)


@router.post(
    "/{permit_id}/manifests",
    response_model=ManifestOut,
    status_code=201,
    summary="Compute the cohort manifest as of the permit's approval (HDAB, board)",
    responses=problems(
        {404: "permit-not-found, no-mandate", 409: "permit-expired, permit-revoked, permit-not-approved-yet"}
    ),
)
def create_manifest(
    permit_id: PermitId, session: WriteSession, actor: Registering, settings: SettingsDep, now: Now
) -> ManifestOut:
    permit = service.get(session, actor, permit_id)
    return ManifestOut.of(manifests.create(session, actor, permit, settings, now))


@router.get("/{permit_id}/manifests", response_model=list[ManifestOut], summary="A permit's manifests (as the permit)")
def list_manifests(permit_id: PermitId, session: ReadSession, actor: CurrentActor) -> list[ManifestOut]:
    permit = service.get(session, actor, permit_id)
    rows = session.execute(select(Manifest).where(col(Manifest.permit_id) == permit.id).order_by(col(Manifest.id)))
    return [ManifestOut.of(m) for m in rows.scalars()]


@router.get(
    "/{permit_id}/manifests/{manifest_id}",
    summary="The manifest's pseudonyms, streamed as JSON or CSV (HDAB, board, auditor, the permit's data holders)",
    description="Each download is recorded once, naming the manifest (not its members): every member in it "
    "sees the download in their access log (`GET /members/{id}/access-log`).",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def read_manifest(
    permit_id: PermitId,
    manifest_id: Annotated[int, Path(ge=1, le=ID_MAX)],
    session: ReadSession,
    actor: CurrentActor,
    db: Annotated[Database, Depends(get_database)],
    now: Now,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> StreamingResponse:
    manifest = manifests.get(session, service.get(session, actor, permit_id), manifest_id)
    head = ManifestOut.of(manifest)
    record_apart(db, actor, Read(AccessWhat.manifest, manifest_id=manifest_id), now)  # before a byte is sent

    def body() -> Iterator[bytes]:
        with db.unit_of_work(write=False) as stream_session:
            if format == "csv":
                yield b"pseudonym\n"
                for p in manifests.pseudonyms(stream_session, manifest_id):
                    yield p.hex().encode() + b"\n"
                return
            yield head.model_dump_json(exclude={"ledger_seq"}).encode()[:-1] + b',"pseudonyms":['
            for i, p in enumerate(manifests.pseudonyms(stream_session, manifest_id)):
                yield (b',"' if i else b'"') + p.hex().encode() + b'"'
            yield b"]}"

    media = "text/csv" if format == "csv" else "application/json"
    return StreamingResponse(
        body(), media_type=media, headers={"Content-Disposition": f'inline; filename="manifest-{manifest_id}.{format}"'}
    )


@router.post(
    "/{permit_id}/usage",
    response_model=UsageOut,
    status_code=201,
    summary="Report usage: extraction, access, output, deletion or incident (HDAB, the permit's data holders)",
    responses=problems({409: "usage-differs (this id was reported with other contents)"}),
)
def report_usage(
    permit_id: PermitId,
    body: UsageIn,
    session: WriteSession,
    actor: CurrentActor,
    response: Response,
    settings: SettingsDep,
    now: Now,
) -> UsageOut:
    permit = service.get(session, actor, permit_id)
    new = usage.NewUsage(body.kind, body.occurred_at, body.manifest_id, body.records, body.description, body.id)
    event, written = usage.report(session, actor, permit, new, settings, now)
    if not written:
        response.status_code = 200
    return UsageOut.of(event)


@router.post(
    "/{permit_id}/results",
    response_model=ResultOut,
    status_code=201,
    summary="Register a result (HDAB, board)",
    responses=problems({422: "result-before-permit (published_at is before the permit's approval)"}),
)
def register_result(
    permit_id: PermitId, body: ResultIn, session: WriteSession, actor: Registering, now: Now
) -> ResultOut:
    permit = service.get(session, actor, permit_id)
    return ResultOut.of(
        usage.register_result(
            session, actor, permit, body.kind, body.title, body.url, body.published_at, body.open_access, now
        )
    )


@router.get(
    "/{permit_id}/compliance",
    response_model=ComplianceOut,
    summary="Breaches computed from the register and the reported usage (as the permit)",
)
def compliance(
    permit_id: PermitId, session: ReadSession, actor: CurrentActor, settings: SettingsDep, now: Now
) -> ComplianceOut:
    permit = service.get(session, actor, permit_id)
    assert permit.id is not None
    flags = usage.compliance(session, permit, settings, now)
    return ComplianceOut(
        permit_id=permit.id,
        status=rules.status_of(permit, now),
        compliant=not flags,
        flags=[FlagOut(rule=f.rule, article=f.article, message=f.message, events=f.events) for f in flags],
        usage=[UsageOut.of(u) for u in usage.usage_of(session, permit.id)],
        results=[ResultOut.of(r) for r in usage.results_of(session, [permit.id])[permit.id]],
    )


members_router = APIRouter(prefix="/members", tags=["data use"])


@members_router.get(
    "/{member_id}/data-use", response_model=list[DataUseOut], summary="Permits that included my data (the member)"
)
def data_use(member_id: MemberId, session: ReadSession, actor: CurrentActor, now: Now) -> list[DataUseOut]:
    require_own_record(actor, member_id)
    rows = usage.permits_using(session, member_id)
    results = usage.results_of(session, [permit.id for permit, _ in rows if permit.id is not None])
    out = []
    for permit, since in rows:
        p = PermitOut.of(permit, now)
        out.append(
            DataUseOut(
                permit_id=p.id,
                permit_number=p.permit_number,
                applicant=p.applicant,
                user_type=p.user_type,
                purposes=p.purposes,
                categories=p.categories,
                status=p.status,
                approved_at=p.approved_at,
                included_since=since,
                results=[ResultOut.of(r) for r in results[p.id]],
            )
        )
    return out
