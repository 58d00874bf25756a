"""HTTP: the messages the mail server refused for good, for the board to follow up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from coop.auth.policy import Actor, Permission
from coop.deps import ID_MAX, ReadSession, require
from coop.mail import queries
from coop.mail.schemas import UndeliverableOut, UndeliverablePage

router = APIRouter(prefix="/mail", tags=["mail"])


@router.get(
    "/undeliverable",
    response_model=UndeliverablePage,
    summary="Messages that could not be delivered, newest first (board)",
)
def undeliverable(
    session: ReadSession,
    _actor: Annotated[Actor, Depends(require(Permission.list_members))],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> UndeliverablePage:
    rows, total = queries.undeliverable(session, limit, offset)
    return UndeliverablePage(items=[UndeliverableOut.of(r) for r in rows], total=total, limit=limit, offset=offset)
