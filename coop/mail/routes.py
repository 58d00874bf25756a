"""HTTP: the messages the mail server refused for good, for the board to follow up; a member's
message settings, for the member themselves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from coop.access.models import AccessWhat
from coop.access.service import Read, record_apart
from coop.auth.policy import Actor, Permission, require_own_record
from coop.deps import ID_MAX, CurrentActor, DatabaseDep, MemberId, Now, ReadSession, WriteSession, require
from coop.mail import queries, service
from coop.mail.schemas import MessageSettingsBody, UndeliverableOut, UndeliverablePage
from coop.openapi import problems

router = APIRouter(prefix="/mail", tags=["mail"])
members_router = APIRouter(prefix="/members", tags=["members"])


@router.get(
    "/undeliverable",
    response_model=UndeliverablePage,
    summary="Messages that could not be delivered, newest first (board)",
)
def undeliverable(
    session: ReadSession,
    actor: Annotated[Actor, Depends(require(Permission.list_members))],
    db: DatabaseDep,
    now: Now,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> UndeliverablePage:
    rows, total = queries.undeliverable(session, limit, offset)
    shown = [r.member_id for r in rows if r.member_id is not None]
    record_apart(db, actor, Read(AccessWhat.undeliverable_mail, members=shown), now)
    return UndeliverablePage(items=[UndeliverableOut.of(r) for r in rows], total=total, limit=limit, offset=offset)


@members_router.get(
    "/{member_id}/message-settings",
    response_model=MessageSettingsBody,
    summary="Which optional messages the member gets (the member themselves)",
    responses=problems({404: "member-not-found"}),
)
def message_settings(session: ReadSession, actor: CurrentActor, member_id: MemberId) -> MessageSettingsBody:
    require_own_record(actor, member_id)
    return MessageSettingsBody.of(queries.preferences(session, member_id))


@members_router.put(
    "/{member_id}/message-settings",
    response_model=MessageSettingsBody,
    summary="Change which optional messages the member gets (the member themselves)",
    responses=problems({404: "member-not-found"}),
)
def change_message_settings(
    session: WriteSession, actor: CurrentActor, member_id: MemberId, body: MessageSettingsBody, now: Now
) -> MessageSettingsBody:
    return MessageSettingsBody.of(service.change(session, actor, member_id, body.preferences(), now=now))
