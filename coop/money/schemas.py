"""API shapes for money. Amounts are whole cents (`*_cents`): strict integers, never floats."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from coop.types import CleanStr, Day
from ledger.books import Entry

Key = Field(pattern=r"^[A-Za-z0-9._:-]{1,60}$", description="your id for this transaction: makes retries safe")
Cents = Field(gt=0, le=10**13)


class PaymentKind(StrEnum):
    fee = "fee"
    benefit_share = "benefit-share"


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Key
    received_on: Day
    amount_cents: StrictInt = Cents
    kind: PaymentKind


class ExpenseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Key
    paid_on: Day
    amount_cents: StrictInt = Cents
    description: CleanStr = Field(min_length=1, max_length=400)


class GrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Key
    paid_on: Day
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


class DistributionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period_start: Day
    period_end: Day


class DistributionPermitOut(BaseModel):
    permit_id: int
    revenue_cents: int
    pool_cents: int
    members: int
    rotation_start: int = Field(
        description="the place (from 0, in order of member number) where the leftover cents of the equal split start"
    )


class DistributionOut(BaseModel):
    id: int
    period_start: date
    period_end: date
    status: str = Field(description="draft or committed")
    policy_version: int
    net_income_cents: int
    reserve_cents: int
    solidarity_cents: int
    members_pool_cents: int
    unclaimed_cents: int = Field(description="pool shares of permits without members, to the solidarity fund")
    donated_cents: int = Field(description="members' dividends donated to the solidarity fund")
    permits: list[DistributionPermitOut]
    digest: str = Field(description="SHA-256 of every figure; a recomputation gives the same")


class DividendPart(BaseModel):
    permit_id: int
    permit_number: str = Field(description="the HDAB's reference of the data permit")
    permit_pool_cents: int
    permit_members: int
    position: int = Field(
        description="your place among the permit's members, counted from 0 in order of member number; "
        "the cents the pool does not divide evenly go one each to consecutive places from a starting place "
        "drawn from the period and the permit"
    )
    cents: int


class DividendOut(BaseModel):
    distribution_id: int
    period_start: date
    period_end: date
    total_cents: int
    donated: bool
    parts: list[DividendPart] = Field(description="one share per permit that used your data, split equally")


class DividendsOut(BaseModel):
    member_id: int
    distributions: list[DividendOut]
    balance_cents: int = Field(description="owed to you and not yet paid: carried forward below the minimum payout")
    paid_out_cents: int
