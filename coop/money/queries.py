"""Reads of distributions that the API and the portal share."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from coop.money.models import Distribution, DistributionPermit
from ledger.books import Kind, natural
from ledger.models import MoneyAccount, MoneyPosting


def listing(session: Session) -> list[Distribution]:
    """Every distribution, the newest first."""
    return list(session.execute(select(Distribution).order_by(col(Distribution.id).desc())).scalars())


def permits_of(session: Session, distribution_id: int) -> list[DistributionPermit]:
    """Each permit's part of a distribution, in permit order."""
    return list(
        session.execute(
            select(DistributionPermit)
            .where(col(DistributionPermit.distribution_id) == distribution_id)
            .order_by(col(DistributionPermit.permit_id))
        ).scalars()
    )


MEMBERS_PAYABLE = "liabilities:members"
"""Every member's own payable account, summed as one line (a cooperative has a million)."""


def balances_summary(session: Session) -> list[tuple[str, Kind, int]]:
    """The cooperative's accounts with their balances in natural sign, the members' accounts
    summed as one (:data:`MEMBERS_PAYABLE`)."""
    account = col(MoneyPosting.account)
    grouped = case((account.like(f"{MEMBERS_PAYABLE}:%"), MEMBERS_PAYABLE), else_=account)
    totals = dict(session.execute(select(grouped, func.sum(col(MoneyPosting.amount_cents))).group_by(grouped)).all())
    kinds = dict(
        session.execute(
            select(col(MoneyAccount.code), col(MoneyAccount.kind)).where(
                ~col(MoneyAccount.code).like(f"{MEMBERS_PAYABLE}:%")
            )
        ).all()
    )
    kinds[MEMBERS_PAYABLE] = Kind.liability.value
    return [(code, Kind(kind), natural(Kind(kind), int(totals.get(code, 0)))) for code, kind in sorted(kinds.items())]
