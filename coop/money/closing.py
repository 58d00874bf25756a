"""Committing a distribution: whether its draft still holds, and the closing entry and payouts.

Committing needs two board users (see :mod:`coop.approvals`): one asks, another approves, and
the approval commits here in its own transaction. Committing recomputes the plan and requires
the draft's digest (entries booked into the period since the draft make it stale), then posts
one all-or-nothing closing entry (income and expenses of the period to the reserve, the
solidarity fund and each member's account) and pays out every member whose balance has
reached the minimum payout; smaller balances are carried forward. The members are told by
the mail worker's schedule afterwards (:mod:`coop.money.dividend_mail`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
from sqlalchemy import func, select
from sqlmodel import Session, col

from coop.auth.policy import Actor
from coop.errors import Conflict
from coop.money import periods
from coop.money import service as money
from coop.money.distributions import gather, overlapping, planned
from coop.money.models import Distribution
from coop.money.plan import Ids, Inputs, Plan
from ledger import books, log
from ledger.books import Kind, Posting
from ledger.models import MoneyPosting


@dataclass(frozen=True, slots=True)
class Current:
    """A draft that may still be committed: its inputs and plan as of now."""

    inputs: Inputs
    totals: dict[str, tuple[Kind, int]]
    plan: Plan


def require_current(session: Session, distribution: Distribution, now: datetime) -> Current:
    """The draft's figures still hold: not committed, its period ended and distributed by no
    other distribution, and the books and manifests give the same digest."""
    if distribution.committed_at is not None:
        raise Conflict(f"distribution {distribution.id} is committed already", code="committed-already")
    start, end = distribution.period_start, distribution.period_end
    periods.require_ended(end, now)
    if (other := overlapping(session, start, end, distribution.id)) is not None:
        raise Conflict(f"distribution {other.id} has covered part of this period already", code="period-distributed")
    inputs, totals = gather(session, start, end)
    result = planned(inputs)
    if result.digest() != distribution.digest:
        raise Conflict("the books or manifests changed since this draft; make a new draft", code="draft-stale")
    return Current(inputs, totals, result)


@dataclass(frozen=True, slots=True)
class FourEyes:
    """Who asked for the commit and who approved it (ledger names), and the request's id."""

    approval_id: int
    requested_by: str
    approved_by: str

    def payload(self) -> dict[str, object]:
        return {"approval": self.approval_id, "requested_by": self.requested_by, "approved_by": self.approved_by}


def commit_approved(
    session: Session, actor: Actor, distribution: Distribution, eyes: FourEyes, *, now: datetime
) -> Distribution:
    """Post the distribution and pay out, as ``actor`` (the board user who approved)."""
    current = require_current(session, distribution, now)
    result, totals = current.plan, current.totals
    distribution_id, end = distribution.id, distribution.period_end
    assert distribution_id is not None
    money.open_standard(session, actor)
    credited = ~result.donated & (result.member_cents != 0)
    members, shares = in_code_order(result.member_ids[credited], result.member_cents[credited])
    codes = _payables(members)
    carried = _member_balances(session)
    books.open_accounts_columns(
        session,
        codes,
        Kind.liability,
        np.strings.add(b"Dividends owed to member ", _digits(members)),
        actor.ledger_name,
    )
    postings = [
        Posting(a, -cents if kind is Kind.expense else cents) for a, (kind, cents) in sorted(totals.items()) if cents
    ]
    postings += [
        Posting(money.RESERVE, -result.reserve_cents),
        Posting(money.SOLIDARITY, -result.to_solidarity_cents()),
    ]
    lines = _lines(postings, codes, -shares)
    start = distribution.period_start
    books.post_columns(
        session,
        f"distribution:{distribution_id}",
        end,
        f"distribution {start.isoformat()} to {end.isoformat()}",
        *lines,
        actor.ledger_name,
    )
    owed_members, owed = _owed(carried, members, shares)
    due = owed >= max(current.inputs.policy.minimum_payout_cents, 1)
    _pay_out(session, actor, distribution_id, end, *in_code_order(owed_members[due], owed[due]))
    distribution.committed_at = now  # the mail worker's schedule tells the members (coop.money.dividend_mail)
    session.flush()
    log.append(
        session,
        "distribution.committed",
        actor.ledger_name,
        f"distribution:{distribution_id}",
        committed_payload(distribution.digest, eyes),
        at=distribution.committed_at,
    )
    return distribution


def committed_payload(digest: str, eyes: FourEyes | None) -> dict[str, object]:
    """The distribution.committed event: the digest, and (since commits need four eyes) the
    request that approved it and the two board users."""
    return {"digest": digest, **(eyes.payload() if eyes is not None else {})}


def in_code_order(members: Ids, cents: Ids) -> tuple[Ids, Ids]:
    """Members and their cents in the order of their accounts' codes, the order the books
    list postings in: by the member id as text ("10" before "9"), without making the text.
    Text order is the order of the id scaled to a common number of digits, then of its own
    number of digits ("1" and "10" both scale to 10; "1" comes first)."""
    digits = np.ones(members.size, dtype=np.int64)
    for power in range(1, len(str(int(members.max(initial=0))))):
        digits += members >= 10**power
    scaled = members * 10 ** (int(digits.max(initial=1)) - digits)
    order = np.lexsort((digits, scaled))
    return members[order], cents[order]


def _digits(members: Ids) -> books.Codes:
    return members.astype(np.bytes_)


def _payables(members: Ids) -> books.Codes:
    """The members' accounts' codes (:func:`coop.money.service.member_payable`), as bytes."""
    return np.strings.add(money.member_payable(0)[:-1].encode(), _digits(members))


def _lines(
    postings: list[Posting], codes: books.Codes, cents: Ids, after: tuple[Posting, ...] = ()
) -> tuple[books.Codes, Ids]:
    """``postings``, then a posting per code, then ``after``, as arrays; without zero amounts."""
    all_codes = np.concatenate(
        [
            np.array([p.account.encode() for p in postings], dtype=np.bytes_),
            codes,
            np.array([p.account.encode() for p in after], dtype=np.bytes_),
        ]
    )
    all_cents = np.concatenate(
        [
            np.array([p.amount_cents for p in postings], dtype=np.int64),
            cents,
            np.array([p.amount_cents for p in after], dtype=np.int64),
        ]
    )
    keep = all_cents != 0
    return all_codes[keep], all_cents[keep]


def _member_balances(session: Session) -> dict[str, int]:
    """What the cooperative owes each member (natural sign), from every posting so far: the
    members whose balance is not zero (those paid out in full are left in the database, so a
    nation's second distribution does not read a row per member)."""
    prefix = money.member_payable(0)[:-1]
    total = func.sum(col(MoneyPosting.amount_cents))
    rows = session.execute(
        select(col(MoneyPosting.account), total)
        .where(col(MoneyPosting.account).startswith(prefix, autoescape=True))
        .group_by(col(MoneyPosting.account))
        .having(total != 0)
    ).all()
    return {code: -int(owed) for code, owed in rows}


def _owed(carried: dict[str, int], members: Ids, cents: Ids) -> tuple[Ids, Ids]:
    """What each member is owed once credited ``cents``: the balances carried forward plus
    the credits, by member id."""
    prefix = money.member_payable(0)[:-1]
    before = np.array([int(code.removeprefix(prefix)) for code in carried], dtype=np.int64)
    if [f"{prefix}{m}" for m in before.tolist()] != list(carried):
        raise ValueError("an account under the members' payables is not named by a member id")
    ids = np.concatenate([before, members])
    amounts = np.concatenate([np.array(list(carried.values()), dtype=np.int64), cents])
    order = np.argsort(ids, kind="stable")
    ids, amounts = ids[order], amounts[order]
    first = np.flatnonzero(np.diff(ids, prepend=-1))
    return ids[first], np.add.reduceat(amounts, first) if first.size else amounts


def _pay_out(session: Session, actor: Actor, distribution_id: int, on: date, members: Ids, cents: Ids) -> None:
    """Pay every member owed at least the minimum (``members`` and ``cents``, in account
    order); smaller amounts are carried forward."""
    if not members.size:
        return
    total = int(cents.sum())
    books.post_columns(
        session,
        f"distribution:{distribution_id}:payouts",
        on,
        "dividend payouts",
        *_lines([], _payables(members), cents, (Posting(money.BANK, -total),)),
        actor.ledger_name,
    )
