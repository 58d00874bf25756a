"""Which days are open for booking, and which periods may be distributed.

A day is open for booking when it has come (dates are calendar days in UTC) and no
committed distribution covers it: committing a distribution closes its period, so income
booked there later could never be distributed. A period may be distributed once it has
ended: its last day lies before today. Writers hold the ledger of record's write lock
from their first statement, so a booking and the commit that would close its day cannot
pass each other.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from coop.errors import Conflict, Invalid
from coop.money.models import Distribution
from ledger.models import MoneyEntry


def today(now: datetime) -> date:
    return now.astimezone(UTC).date()


def require_ended(end: date, now: datetime) -> None:
    """A period can be distributed from the day after its last day."""
    if end >= today(now):
        raise Invalid(
            f"the period ends on {end.isoformat()}; it can be distributed from {(end + timedelta(days=1)).isoformat()}",
            code="period-not-ended",
            field="period_end",
            distributable_from=(end + timedelta(days=1)).isoformat(),
        )


def closed(session: Session) -> list[tuple[date, date]]:
    """The periods of committed distributions, in order."""
    rows = session.execute(
        select(col(Distribution.period_start), col(Distribution.period_end))
        .where(col(Distribution.committed_at).is_not(None))
        .order_by(col(Distribution.period_start))
    ).all()
    return [(start, end) for start, end in rows]


def first_open(session: Session) -> date | None:
    """The first day after the last closed period, or None when no period is closed."""
    periods = closed(session)
    return periods[-1][1] + timedelta(days=1) if periods else None


def require_open(session: Session, day: date, now: datetime, field: str) -> None:
    """Refuse a booking dated in the future (422 ``date-in-future``) or inside a closed
    period (409 ``period-closed``); both say from which day bookings are open."""
    if day > today(now):
        raise Invalid(
            f"{field} {day.isoformat()} lies in the future; book on or before {today(now).isoformat()}",
            code="date-in-future",
            field=field,
            open_until=today(now).isoformat(),
        )
    periods = closed(session)
    covering = [p for p in periods if p[0] <= day <= p[1]]
    if not covering:
        return
    reopens = covering[0][1] + timedelta(days=1)
    for start, end in periods:  # closed periods may follow each other without a gap
        if start <= reopens <= end:
            reopens = end + timedelta(days=1)
    raise Conflict(
        f"{field} {day.isoformat()} lies in the period {covering[0][0].isoformat()} to "
        f"{covering[0][1].isoformat()}, which a distribution has closed; bookings are open from {reopens.isoformat()}",
        code="period-closed",
        field=field,
        open_from=reopens.isoformat(),
    )


def suggested(session: Session, now: datetime) -> tuple[date, date]:
    """The period the board will most likely distribute next: from the day after the last
    closed period (or the first of the year of the first booking) to the end of that year,
    or to yesterday when that year has not ended."""
    yesterday = today(now) - timedelta(days=1)
    first_booked = session.execute(select(func.min(col(MoneyEntry.booked_on)))).scalar_one_or_none()
    start = first_open(session) or (date(first_booked.year, 1, 1) if first_booked else date(yesterday.year, 1, 1))
    start = min(start, yesterday)
    return start, min(yesterday, date(start.year, 12, 31))
