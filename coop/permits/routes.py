"""HTTP: the permit register."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from coop.auth.policy import Actor, Permission
from coop.deps import ID_MAX, CurrentActor, ReadSession, WriteSession, require
from coop.permits import service
from coop.permits.schemas import ExtendIn, PermitIn, PermitOut, RevokeIn

router = APIRouter(prefix="/permits", tags=["permits"])
Registering = Annotated[Actor, Depends(require(Permission.register_permits))]
PermitId = Annotated[int, Path(ge=1, le=ID_MAX)]


@router.post("", response_model=PermitOut, status_code=201, summary="Register a granted permit (HDAB, board)")
def register(body: PermitIn, session: WriteSession, actor: Registering, response: Response) -> PermitOut:
    new = service.NewPermit(
        permit_number=body.permit_number,
        applicant=body.applicant,
        user_type=body.user_type,
        purposes=tuple(dict.fromkeys(body.purposes)),
        categories=tuple(dict.fromkeys(body.categories)),
        authorised_persons=tuple(body.authorised_persons),
        conditions=body.conditions,
        data_holders=tuple(body.data_holders),
        approved_at=body.approved_at,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        fee_cents=body.fee_cents,
        benefit_share_pct=body.benefit_share_pct,
        consultation_id=body.consultation_id,
    )
    permit, written = service.register(session, actor, new)
    if not written:
        response.status_code = 200
    return PermitOut.of(permit)


@router.get(
    "", response_model=list[PermitOut], summary="Permits the caller may see (HDAB, board, auditor, data holder)"
)
def listing(session: ReadSession, actor: CurrentActor) -> list[PermitOut]:
    return [PermitOut.of(p) for p in service.listing(session, actor)]


@router.get("/{permit_id}", response_model=PermitOut, summary="A permit (HDAB, board, auditor, its data holders)")
def read(permit_id: PermitId, session: ReadSession, actor: CurrentActor) -> PermitOut:
    return PermitOut.of(service.get(session, actor, permit_id))


@router.post("/{permit_id}/extend", response_model=PermitOut, summary="Extend once by at most 10 years (HDAB, board)")
def extend(permit_id: PermitId, body: ExtendIn, session: WriteSession, actor: Registering) -> PermitOut:
    return PermitOut.of(service.extend(session, actor, permit_id, body.valid_until))


@router.post("/{permit_id}/revoke", response_model=PermitOut, summary="Revoke now (HDAB, board)")
def revoke(permit_id: PermitId, body: RevokeIn, session: WriteSession, actor: Registering) -> PermitOut:
    return PermitOut.of(service.revoke(session, actor, permit_id, body.reason))
