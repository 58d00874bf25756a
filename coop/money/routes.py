"""HTTP: permit revenue, expenses, solidarity grants, and the balances of the books."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import PlainTextResponse
from sqlmodel import Session

from coop.auth.policy import Actor, Permission, require_own_record
from coop.deps import ID_MAX, CurrentActor, MemberId, Now, ReadSession, WriteSession, require
from coop.errors import Conflict
from coop.money import distributions, queries
from coop.money import service as money
from coop.money.models import Distribution
from coop.money.schemas import (
    BalanceOut,
    BalancesOut,
    DistributionIn,
    DistributionOut,
    DistributionPermitOut,
    DividendOut,
    DividendsOut,
    EntryOut,
    ExpenseIn,
    GrantIn,
    PaymentIn,
)
from coop.openapi import problems
from coop.permits import service as permits
from coop.types import Day
from ledger import books
from ledger.export import beancount

router = APIRouter(tags=["money"])
Treasurer = Annotated[Actor, Depends(require(Permission.manage_money))]


def _created(response: Response, written: bool) -> None:
    response.status_code = 201 if written else 200


@router.post(
    "/permits/{permit_id}/payments",
    response_model=EntryOut,
    status_code=201,
    summary="Record a fee or benefit-share payment (board)",
    responses=problems(
        {
            409: "entry-differs (this id was recorded with other contents), insufficient-funds, period-closed",
            422: "date-in-future",
        }
    ),
)
def payment(
    permit_id: Annotated[int, Path(ge=1, le=ID_MAX)],
    body: PaymentIn,
    session: WriteSession,
    actor: Treasurer,
    response: Response,
    now: Now,
) -> EntryOut:
    permits.get(session, actor, permit_id)
    entry, written = money.payment(
        session, actor, body.id, permit_id, body.received_on, body.amount_cents, body.kind.value, now=now
    )
    _created(response, written)
    return EntryOut.of(entry)


@router.post(
    "/expenses",
    response_model=EntryOut,
    status_code=201,
    summary="Record an operating expense (board)",
    responses=problems(
        {
            409: "entry-differs (this id was recorded with other contents), insufficient-funds, period-closed",
            422: "date-in-future",
        }
    ),
)
def expense(body: ExpenseIn, session: WriteSession, actor: Treasurer, response: Response, now: Now) -> EntryOut:
    entry, written = money.expense(session, actor, body.id, body.paid_on, body.amount_cents, body.description, now=now)
    _created(response, written)
    return EntryOut.of(entry)


@router.post(
    "/solidarity/grants",
    response_model=EntryOut,
    status_code=201,
    summary="Pay a grant from the solidarity fund (board)",
    responses=problems(
        {
            409: "entry-differs (this id was recorded with other contents), insufficient-funds, period-closed",
            422: "date-in-future",
        }
    ),
)
def grant(body: GrantIn, session: WriteSession, actor: Treasurer, response: Response, now: Now) -> EntryOut:
    entry, written = money.grant(
        session, actor, body.id, body.paid_on, body.amount_cents, body.recipient, body.purpose, now=now
    )
    _created(response, written)
    return EntryOut.of(entry)


@router.get(
    "/ledger/export",
    summary="The books as a beancount file (board, auditor)",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}},
)
def export(
    session: ReadSession,
    _actor: Annotated[Actor, Depends(require(Permission.read_books))],
    format: Annotated[str, Query(pattern="^beancount$")] = "beancount",
) -> PlainTextResponse:
    return PlainTextResponse(
        "\n".join(beancount(session)) + "\n", headers={"Content-Disposition": 'inline; filename="books.beancount"'}
    )


@router.get("/ledger/balances", response_model=BalancesOut, summary="Balances as of a date (board, auditor)")
def balances(
    session: ReadSession,
    _actor: Annotated[Actor, Depends(require(Permission.read_books))],
    at: Annotated[Day | None, Query(description="entries booked on or before this date; default: all")] = None,
) -> BalancesOut:
    result = books.balances(session, at)
    debit_total = sum(b if kind in books.DEBIT_NORMAL else -b for kind, b in result.values())
    return BalancesOut(
        at=at,
        accounts=[BalanceOut(account=code, kind=kind.value, balance_cents=b) for code, (kind, b) in result.items()],
        debits_equal_credits=debit_total == 0,
    )


DistributionId = Annotated[int, Path(ge=1, le=ID_MAX)]


def distribution_out(session: Session, d: Distribution) -> DistributionOut:
    assert d.id is not None
    permits = queries.permits_of(session, d.id)
    return DistributionOut(
        id=d.id,
        period_start=d.period_start,
        period_end=d.period_end,
        status="committed" if d.committed_at else "draft",
        policy_version=d.policy_version,
        net_income_cents=d.net_income_cents,
        reserve_cents=d.reserve_cents,
        solidarity_cents=d.solidarity_cents,
        members_pool_cents=d.members_pool_cents,
        unclaimed_cents=d.unclaimed_cents,
        donated_cents=d.donated_cents,
        permits=[
            DistributionPermitOut(
                permit_id=p.permit_id,
                revenue_cents=p.revenue_cents,
                pool_cents=p.pool_cents,
                members=p.members,
                rotation_start=p.rotation_start,
            )
            for p in permits
        ],
        digest=d.digest,
    )


@router.post(
    "/distributions",
    response_model=DistributionOut,
    status_code=201,
    summary="Draft a distribution (board)",
    responses=problems({404: "no-benefit-policy", 409: "period-distributed", 422: "period-not-ended"}),
)
def draft(body: DistributionIn, session: WriteSession, actor: Treasurer, now: Now) -> DistributionOut:
    return distribution_out(session, distributions.draft(session, actor, body.period_start, body.period_end, now=now))


@router.get(
    "/distributions/{distribution_id}", response_model=DistributionOut, summary="A distribution (board, auditor)"
)
def read_distribution(
    distribution_id: DistributionId,
    session: ReadSession,
    _actor: Annotated[Actor, Depends(require(Permission.read_books))],
) -> DistributionOut:
    return distribution_out(session, distributions.get(session, distribution_id))


SECOND_APPROVAL = (
    "committing needs a second board user: ask with POST /api/v1/distributions/{id}/commit-requests, "
    "and another board user approves with POST /api/v1/approvals/{request_id}/approve"
)


@router.post(
    "/distributions/{distribution_id}/commit",
    response_model=DistributionOut,
    summary="No longer commits: a distribution is committed by a second board user's approval (board)",
    description=SECOND_APPROVAL,
    responses=problems({404: "distribution-not-found", 409: "second-approval-needed"}),
)
def commit(distribution_id: DistributionId, session: ReadSession, _actor: Treasurer) -> DistributionOut:
    distributions.get(session, distribution_id)
    raise Conflict(SECOND_APPROVAL.replace("{id}", str(distribution_id)), code="second-approval-needed")


@router.get(
    "/members/{member_id}/dividends", response_model=DividendsOut, summary="My dividends and how they were derived"
)
def dividends(member_id: MemberId, session: ReadSession, actor: CurrentActor) -> DividendsOut:
    require_own_record(actor, member_id)
    received = [DividendOut.model_validate(d) for d in distributions.dividends_of(session, member_id)]
    balance, paid = distributions.member_account(session, member_id)
    return DividendsOut(
        member_id=member_id,
        distributions=received,
        balance_cents=balance,
        paid_out_cents=paid,
    )
