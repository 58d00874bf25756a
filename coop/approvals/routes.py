"""HTTP: four eyes on committing a distribution and publishing the annual report. A board
user asks; another approves (which commits or publishes), or declines; the asker may withdraw."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlmodel import Session

from coop.approvals import queries, service
from coop.approvals.models import Action
from coop.approvals.schemas import ApprovalOut, ApprovedOut, PublishedOut, PublishRequestIn
from coop.auth.policy import Actor, Permission
from coop.deps import ID_MAX, Now, ReadSession, SettingsDep, WriteSession, require
from coop.money.routes import distribution_out
from coop.openapi import problems

router = APIRouter(tags=["four eyes"])
Treasurer = Annotated[Actor, Depends(require(Permission.manage_money))]
Reporter = Annotated[Actor, Depends(require(Permission.annual_reports))]
ApprovalId = Annotated[int, Path(ge=1, le=ID_MAX)]
DECIDED = "approval-decided (approved, declined or withdrawn already)"


@router.post(
    "/distributions/{distribution_id}/commit-requests",
    response_model=ApprovalOut,
    status_code=201,
    summary="Ask a second board user to commit a draft distribution (board)",
    responses=problems(
        {
            403: "named-board-user-needed",
            404: "distribution-not-found",
            409: "approval-pending, committed-already, period-distributed, draft-stale",
            422: "period-not-ended",
        }
    ),
)
def ask_commit(
    distribution_id: Annotated[int, Path(ge=1, le=ID_MAX)], session: WriteSession, actor: Treasurer, now: Now
) -> ApprovalOut:
    return ApprovalOut.of(service.ask_commit(session, actor, distribution_id, now=now))


@router.post(
    "/reports/annual/{year}/publish-requests",
    response_model=ApprovalOut,
    status_code=201,
    summary="Ask a second board user to publish the annual report of a year (board)",
    responses=problems({403: "named-board-user-needed", 404: "tree-head-not-found", 409: "approval-pending"}),
)
def ask_publish(
    year: Annotated[int, Path(ge=2000, le=2100)],
    session: WriteSession,
    actor: Reporter,
    settings: SettingsDep,
    now: Now,
    body: PublishRequestIn | None = None,
) -> ApprovalOut:
    languages = [str(lang) for lang in (body or PublishRequestIn()).languages]
    return ApprovalOut.of(service.ask_publish(session, actor, settings, year, languages, now=now))


@router.get("/approvals", response_model=list[ApprovalOut], summary="Requests waiting for a second board user (board)")
def waiting(
    session: ReadSession,
    _actor: Treasurer,
    action: Annotated[Action | None, Query(description="only requests of this kind")] = None,
) -> list[ApprovalOut]:
    return [ApprovalOut.of(row) for row in queries.waiting(session, action)]


@router.get(
    "/approvals/{approval_id}",
    response_model=ApprovalOut,
    summary="A request for four eyes (board)",
    responses=problems({404: "approval-not-found"}),
)
def read(approval_id: ApprovalId, session: ReadSession, _actor: Treasurer) -> ApprovalOut:
    return ApprovalOut.of(service.get(session, approval_id))


def _approved(session: Session, result: service.Approved) -> ApprovedOut:
    return ApprovedOut(
        approval=ApprovalOut.of(result.approval),
        distribution=distribution_out(session, result.distribution) if result.distribution else None,
        published=[PublishedOut(**p) for p in result.published],
    )


@router.post(
    "/approvals/{approval_id}/approve",
    response_model=ApprovedOut,
    summary="Approve another board user's request: the distribution is committed, or the report published (board)",
    responses=problems(
        {
            403: "own-request (the board user who asked cannot approve), named-board-user-needed",
            404: "approval-not-found",
            409: f"{DECIDED}, approval-stale (the report's figures changed), committed-already, "
            "period-distributed, draft-stale, insufficient-funds",
            422: "period-not-ended",
        }
    ),
)
def approve(
    approval_id: ApprovalId, session: WriteSession, actor: Treasurer, settings: SettingsDep, now: Now
) -> ApprovedOut:
    return _approved(session, service.approve(session, actor, settings, approval_id, now=now))


@router.post(
    "/approvals/{approval_id}/decline",
    response_model=ApprovalOut,
    summary="Decline another board user's request (board)",
    responses=problems({403: "own-request, named-board-user-needed", 404: "approval-not-found", 409: DECIDED}),
)
def decline(approval_id: ApprovalId, session: WriteSession, actor: Treasurer, now: Now) -> ApprovalOut:
    return ApprovalOut.of(service.decline(session, actor, approval_id, now=now))


@router.post(
    "/approvals/{approval_id}/withdraw",
    response_model=ApprovalOut,
    summary="Withdraw one's own request (the board user who asked)",
    responses=problems({403: "not-your-request", 404: "approval-not-found", 409: DECIDED}),
)
def withdraw(approval_id: ApprovalId, session: WriteSession, actor: Treasurer, now: Now) -> ApprovalOut:
    return ApprovalOut.of(service.withdraw(session, actor, approval_id, now=now))
