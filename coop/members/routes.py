"""HTTP: admitting (one by one or from a file), reading, searching and leaving members; a member's
corrected name and new email address (:mod:`coop.members.details`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from coop.access.models import AccessWhat
from coop.access.service import Read, record_apart
from coop.auth.policy import Actor, Permission
from coop.db import Database
from coop.deps import (
    ID_MAX,
    CurrentActor,
    DatabaseDep,
    MemberId,
    Now,
    ReadSession,
    SettingsDep,
    WriteSession,
    get_database,
    require,
)
from coop.members import admission, details, erasure, queries, service
from coop.members.models import MemberStatus
from coop.members.schemas import (
    AdmittedOut,
    EmailChangedOut,
    EmailChangeIn,
    EmailChangeOut,
    EmailConfirmIn,
    ImportedOut,
    ImportReportOut,
    InvitationOut,
    MemberIn,
    MemberOut,
    MemberPage,
    NameIn,
    RefusedOut,
)
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
        invitation_expires_at=issued.expires_at,
    )


@router.post(
    "/import",
    response_model=ImportReportOut,
    summary="Admit members in bulk from a CSV file (board)",
    description="The body is the file (`text/csv`, UTF-8): a header row naming the columns `name`, `email`, "
    "and optionally `language` and `reference` (the member's number in the membership administration), "
    "separated by `,` or `;`. Each row is admitted or refused on its own; the answer lists both. A row "
    "whose email or reference is a member's already is refused as `member-exists` or `reference-exists`, "
    "so sending the same file again admits nobody twice. Every admitted member gets an invitation.",
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
    responses=problems(
        {
            400: "the body could not be read",
            413: "the file is larger than COOP_AUTH_MAX_IMPORT_BYTES",
            422: "csv-columns, csv-no-header or csv-unreadable (nothing was admitted)",
        }
    ),
)
async def import_members(
    request: Request,
    db: Annotated[Database, Depends(get_database)],
    actor: Annotated[Actor, Depends(require(Permission.admit_members))],
    now: Now,
) -> ImportReportOut:
    data = await request.body()
    report = await run_in_threadpool(admission.run, db, actor, data, now)
    return ImportReportOut(
        rows=report.rows,
        admitted=[ImportedOut(line=line, number=number) for line, number in report.admitted],
        refused=[RefusedOut(line=r.line, code=r.code, reason=r.reason) for r in report.refused],
        already_members=report.already_members,
    )


@router.post(
    "/confirm-email",
    response_model=EmailChangedOut,
    summary="Confirm a new email address with the link mailed to it (public: the link is the credential)",
    description="The token of the single-use link mailed to the new address. The member's email and their "
    "login's become the new address (they log in with it from now on), and the old address is told. "
    "A link works once (410 `email-change-used`), until it expires (410 `email-change-expired`), and only "
    "while it is the member's newest (422 `email-change-invalid`). 409 `email-taken`: another member or "
    "login has that address by now; nothing changed.",
    responses=problems({409: "email-taken", 410: "email-change-used or email-change-expired"}),
)
def confirm_email(body: EmailConfirmIn, session: WriteSession, now: Now) -> EmailChangedOut:
    member = details.confirm_email_change(session, body.token, now)
    return EmailChangedOut(email=member.email)


@router.get("", response_model=MemberPage, summary="List and search members (board)")
def list_members(
    session: ReadSession,
    actor: Annotated[Actor, Depends(require(Permission.list_members))],
    db: DatabaseDep,
    now: Now,
    q: Annotated[CleanStr | None, Query(max_length=200, description="name, email or member number")] = None,
    status: MemberStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> MemberPage:
    members, total = queries.search(session, q, status, limit, offset)
    record_apart(db, actor, Read(AccessWhat.member_list, members=[m.id for m in members if m.id]), now)
    return MemberPage(items=[MemberOut.of(m) for m in members], total=total, limit=limit, offset=offset)


@router.get("/{member_id}", response_model=MemberOut, summary="Read a member (the member themselves, or the board)")
def read(member_id: MemberId, session: ReadSession, actor: CurrentActor, db: DatabaseDep, now: Now) -> MemberOut:
    member = queries.get_for(session, actor, member_id)
    record_apart(db, actor, Read(AccessWhat.member_page, member_id=member_id), now)  # before it is served
    return MemberOut.of(member)


@router.post("/{member_id}/leave", response_model=MemberOut, summary="Leave the cooperative (the member, or the board)")
def leave(member_id: MemberId, session: WriteSession, actor: CurrentActor, now: Now) -> MemberOut:
    return MemberOut.of(service.leave(session, actor, member_id, now))


@router.post(
    "/{member_id}/erasure-request",
    response_model=MemberOut,
    summary="Ask to erase a former member's details now (the former member, or the board on their request)",
    description="Records the request (`member.erasure-requested`): the next run of `coop members erase-due` "
    "(daily) erases the email address, the login, new addresses waiting for a link and the outbox's copies; "
    "the name stays until `COOP_PRIVACY_RETENTION_YEARS` after leaving, because the books need it. Asking "
    "again changes nothing. 409 `member-active`: a member leaves first. Anyone else is told 404 "
    "`member-not-found`.",
    responses=problems({404: "member-not-found", 409: "member-active"}),
)
def request_erasure(member_id: MemberId, session: WriteSession, actor: CurrentActor, now: Now) -> MemberOut:
    return MemberOut.of(erasure.request(session, actor, member_id, now))


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
    return InvitationOut(invitation_token=issued.token, invitation_expires_at=issued.expires_at)


@router.put(
    "/{member_id}/name",
    response_model=MemberOut,
    summary="Correct the member's name (the member themselves, or the board)",
    description="Takes effect at once; the member is told by mail, saying who changed it. The same name "
    "again changes nothing and tells nothing. Anyone else is told 404 `member-not-found`.",
    responses=problems({404: "member-not-found"}),
)
def rename(member_id: MemberId, body: NameIn, session: WriteSession, actor: CurrentActor, now: Now) -> MemberOut:
    return MemberOut.of(details.rename(session, actor, member_id, body.name, now))


@router.post(
    "/{member_id}/email-change",
    response_model=EmailChangeOut,
    status_code=202,
    summary="Ask to move the member to a new email address (the member themselves, or the board)",
    description="Nothing changes yet: a single-use link is mailed to the new address, valid "
    "`COOP_MAIL_EMAIL_CHANGE_MINUTES`; following it (`POST /members/confirm-email`) makes the change. "
    "The current address is told now and again when the change takes effect. Asking again sends a new "
    "link and the older one stops working. A member gets this same answer whether or not another member "
    "or login has the new address (so nobody can probe which addresses are members'); confirming such a "
    "link is refused. The board, which sees every member, is told at once: 409 `email-taken`. "
    "422 `email-unchanged`: it is the member's address already. 429: more than "
    "`COOP_MAIL_EMAIL_CHANGE_MAX_PER_HOUR` links in an hour. Anyone else is told 404 `member-not-found`.",
    responses=problems({404: "member-not-found", 409: "email-taken", 429: "too-many-requests"}),
)
def request_email_change(
    member_id: MemberId,
    body: EmailChangeIn,
    session: WriteSession,
    settings: SettingsDep,
    actor: CurrentActor,
    now: Now,
) -> EmailChangeOut:
    requested = details.request_email_change(session, actor, settings.mail, member_id, str(body.email), now)
    return EmailChangeOut(expires_at=requested.expires_at)
