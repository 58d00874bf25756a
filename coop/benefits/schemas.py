"""API shapes for money. Amounts are whole cents (`*_cents`): strict integers, never floats."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from coop.types import CleanStr
from ledger.books import Entry

Key = Field(pattern=r"^[A-Za-z0-9._:-]{1,60}$", description="your id for this transaction: makes retries safe")
Cents = Field(gt=0, le=10**13)


class PaymentKind(StrEnum):
    fee = "fee"
    benefit_share = "benefit-share"


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Key
    received_on: date
    amount_cents: StrictInt = Cents
    kind: PaymentKind


class ExpenseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Key
    paid_on: date
    amount_cents: StrictInt = Cents
    description: CleanStr = Field(min_length=1, max_length=400)


class GrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Key
    paid_on: date
    amount_cents: StrictInt = Cents
    recipient: CleanStr = Field(min_length=1, max_length=200)
    purpose: CleanStr = Field(min_length=1, max_length=250, description="the public purpose: the flow to society")


class PostingOut(BaseModel):
    account: str
    amount_cents: int


class EntryOut(BaseModel):
    id: str
    booked_on: date
    description: str
    postings: list[PostingOut]

    @classmethod
    def of(cls, e: Entry) -> EntryOut:
        return cls(
            id=e.id,
            booked_on=e.booked_on,
            description=e.description,
            postings=[PostingOut(account=p.account, amount_cents=p.amount_cents) for p in e.postings],
        )


class BalanceOut(BaseModel):
    account: str
    kind: str
    balance_cents: int = Field(description="in the account's natural sign")


class BalancesOut(BaseModel):
    at: date | None
    accounts: list[BalanceOut]
    debits_equal_credits: bool
