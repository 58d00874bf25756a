"""Reads of distributions that the API and the portal share."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from coop.money.models import Distribution, DistributionPermit


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
