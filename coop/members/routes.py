"""HTTP: admitting, reading, searching and leaving members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from coop.auth.policy import Actor, Permission
from coop.deps import ID_MAX, CurrentActor, MemberId, Now, ReadSession, SettingsDep, WriteSession, require
from coop.members import queries, service
from coop.members.models import MemberStatus
from coop.members.schemas import AdmittedOut, InvitationOut, MemberIn, MemberOut, MemberPage
from coop.openapi import problems
from coop.types import CleanStr

router = APIRouter(prefix="/members", tags=["members"])


@router.post(
    "",
    response_model=AdmittedOut,
    status_code=201,
    summary="Admit a member (board)",
    responses=problems({409: "member-exists"}),
)
def admit(
    body: MemberIn,
    session: WriteSession,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(require(Permission.admit_members))],
    now: Now,
) -> AdmittedOut:
    member, issued = service.admit(session, actor, settings.auth, body.name, str(body.email), body.language, now)
    return AdmittedOut(
        member=MemberOut.of(member),
        invitation_token=issued.token,
        invitation_expires_at=issued.invitation.expires_at,
    )


@router.get("", response_model=MemberPage, summary="List and search members (board)")
def list_members(
    session: ReadSession,
    _actor: Annotated[Actor, Depends(require(Permission.list_members))],
    q: Annotated[CleanStr | None, Query(max_length=200, description="name, email or member number")] = None,
    status: MemberStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> MemberPage:
    members, total = queries.search(session, q, status, limit, offset)
    return MemberPage(items=[MemberOut.of(m) for m in members], total=total, limit=limit, offset=offset)


@router.get("/{member_id}", response_model=MemberOut, summary="Read a member (the member themselves, or the board)")
def read(member_id: MemberId, session: ReadSession, actor: CurrentActor) -> MemberOut:
    return MemberOut.of(queries.get_for(session, actor, member_id))


@router.post("/{member_id}/leave", response_model=MemberOut, summary="Leave the cooperative (the member, or the board)")
def leave(member_id: MemberId, session: WriteSession, actor: CurrentActor, now: Now) -> MemberOut:
    return MemberOut.of(service.leave(session, actor, member_id, now))


@router.post(
    "/{member_id}/invitation",
    response_model=InvitationOut,
    status_code=201,
    summary="Issue a new invitation, withdrawing earlier ones (board)",
    responses=problems({409: "account-exists"}),
)
def reinvite(
    member_id: MemberId,
    session: WriteSession,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(require(Permission.admit_members))],
    now: Now,
) -> InvitationOut:
    issued = service.reinvite(session, actor, settings.auth, member_id, now)
    return InvitationOut(invitation_token=issued.token, invitation_expires_at=issued.invitation.expires_at)
