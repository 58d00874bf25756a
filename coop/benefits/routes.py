"""HTTP: permit revenue, expenses, solidarity grants, and the balances of the books."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from coop.auth.policy import Actor, Permission
from coop.benefits import accounts
from coop.benefits.schemas import BalanceOut, BalancesOut, EntryOut, ExpenseIn, GrantIn, PaymentIn
from coop.deps import ID_MAX, ReadSession, WriteSession, require
from coop.permits import service as permits
from ledger import books

router = APIRouter(tags=["money"])
Treasurer = Annotated[Actor, Depends(require(Permission.manage_money))]


def _created(response: Response, written: bool) -> None:
    response.status_code = 201 if written else 200


@router.post(
    "/permits/{permit_id}/payments",
    response_model=EntryOut,
    status_code=201,
    summary="Record a fee or benefit-share payment (board)",
)
def payment(
    permit_id: Annotated[int, Path(ge=1, le=ID_MAX)],
    body: PaymentIn,
    session: WriteSession,
    actor: Treasurer,
    response: Response,
) -> EntryOut:
    permits.get(session, actor, permit_id)
    entry, written = accounts.payment(
        session, body.id, permit_id, body.received_on, body.amount_cents, body.kind.value, actor.ledger_name
    )
    _created(response, written)
    return EntryOut.of(entry)


@router.post("/expenses", response_model=EntryOut, status_code=201, summary="Record an operating expense (board)")
def expense(body: ExpenseIn, session: WriteSession, actor: Treasurer, response: Response) -> EntryOut:
    entry, written = accounts.expense(
        session, body.id, body.paid_on, body.amount_cents, body.description, actor.ledger_name
    )
    _created(response, written)
    return EntryOut.of(entry)


@router.post(
    "/solidarity/grants",
    response_model=EntryOut,
    status_code=201,
    summary="Pay a grant from the solidarity fund (board)",
)
def grant(body: GrantIn, session: WriteSession, actor: Treasurer, response: Response) -> EntryOut:
    entry, written = accounts.grant(
        session, body.id, body.paid_on, body.amount_cents, body.recipient, body.purpose, actor.ledger_name
    )
    _created(response, written)
    return EntryOut.of(entry)


@router.get("/ledger/balances", response_model=BalancesOut, summary="Balances as of a date (board, auditor)")
def balances(
    session: ReadSession,
    _actor: Annotated[Actor, Depends(require(Permission.read_books))],
    at: Annotated[date | None, Query(description="entries booked on or before this date; default: all")] = None,
) -> BalancesOut:
    result = books.balances(session, at)
    debit_total = sum(b if kind in books.DEBIT_NORMAL else -b for kind, b in result.values())
    return BalancesOut(
        at=at,
        accounts=[BalanceOut(account=code, kind=kind.value, balance_cents=b) for code, (kind, b) in result.items()],
        debits_equal_credits=debit_total == 0,
    )
