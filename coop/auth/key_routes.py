"""The organisations' API keys, for the board: make one (its token shown once), list them, revoke one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from coop.auth import queries, service
from coop.auth.models import ApiKey
from coop.auth.policy import Actor, Permission
from coop.auth.schemas import ApiKeyIn, ApiKeyOut, CreatedApiKeyOut
from coop.deps import ID_MAX, Now, ReadSession, WriteSession, require
from coop.openapi import problems

router = APIRouter(prefix="/auth/api-keys", tags=["auth"])
Board = Annotated[Actor, Depends(require(Permission.manage_api_keys))]


def key_out(key: ApiKey) -> ApiKeyOut:
    assert key.id is not None
    return ApiKeyOut(
        id=key.id, org=key.org, role=key.role, prefix=key.prefix, created_at=key.created_at, revoked_at=key.revoked_at
    )


@router.get("", response_model=list[ApiKeyOut], summary="The organisations' keys, without their secrets (board)")
def list_keys(session: ReadSession, _board: Board) -> list[ApiKeyOut]:
    return [key_out(k) for k in queries.list_api_keys(session)]


@router.post(
    "",
    status_code=201,
    response_model=CreatedApiKeyOut,
    summary="Make a key for the HDAB, a data holder or an auditor (board); the token is shown this once",
    description="Only the key's SHA-256 is kept, so the token cannot be shown again: a request that is "
    "retried makes a second key; revoke the one whose token you did not receive.",
    responses=problems({422: "invalid (an unknown role, or an organisation name of the wrong length)"}),
)
def create_key(body: ApiKeyIn, session: WriteSession, board: Board, now: Now) -> CreatedApiKeyOut:
    created = service.create_api_key(session, board, body.org, body.role, now=now)
    return CreatedApiKeyOut(**key_out(created.key).model_dump(), token=created.token)


@router.post(
    "/{key_id}/revoke",
    response_model=ApiKeyOut,
    summary="Revoke a key (board): it stops working at once; revoking again changes nothing",
    responses=problems({404: "api-key-not-found"}),
)
def revoke_key(
    key_id: Annotated[int, Path(ge=1, le=ID_MAX)], session: WriteSession, board: Board, now: Now
) -> ApiKeyOut:
    return key_out(service.revoke_api_key(session, board, key_id, now=now))
