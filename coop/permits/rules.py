"""What a permit's dates mean (pure): status, and the duties that follow from them.

* At most 10 years of validity, extendable once by at most 10 years (Art. 68).
* Results are due 18 months after processing ends (Art. 61(4)): processing ends when the
  permit expires or is revoked.
* Data in the secure processing environment must be deleted within 6 months of expiry
  (Art. 68(12)); for a revoked permit, within 6 months of the revocation.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coop.permits.models import Permit


class Status(StrEnum):
    granted = "granted"
    active = "active"
    expired = "expired"
    revoked = "revoked"


MAX_YEARS = 10
RESULTS_DUE_MONTHS = 18
DELETION_DUE_MONTHS = 6


def add_months(at: datetime, months: int) -> datetime:
    """The same day ``months`` later (the last day of the month when it has fewer days)."""
    month0 = at.month - 1 + months
    year, month = at.year + month0 // 12, month0 % 12 + 1
    for day in (at.day, 30, 29, 28):
        try:
            return at.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def within_years(start: datetime, end: datetime, years: int) -> bool:
    return end <= add_months(start, 12 * years)


def ends_at(valid_until: datetime, extended_until: datetime | None) -> datetime:
    return extended_until or valid_until


def processing_ends(valid_until: datetime, extended_until: datetime | None, revoked_at: datetime | None) -> datetime:
    end = ends_at(valid_until, extended_until)
    return min(end, revoked_at) if revoked_at else end


def status(now: datetime, valid_from: datetime, end: datetime, revoked_at: datetime | None) -> Status:
    if revoked_at is not None and revoked_at <= now:
        return Status.revoked
    if now < valid_from:
        return Status.granted
    return Status.active if now < end else Status.expired


def status_of(permit: Permit, now: datetime) -> Status:
    """The permit's status at ``now``: the one place the API, the portal, the reports, the
    figures and the manifests learn it from."""
    return status(now, permit.valid_from, ends_at(permit.valid_until, permit.extended_until), permit.revoked_at)


def results_due(processing_end: datetime) -> datetime:
    return add_months(processing_end, RESULTS_DUE_MONTHS)


def results_duty(valid_from: datetime, processing_end: datetime) -> datetime | None:
    """When Art. 61(4) wants the results public; ``None`` for a permit whose processing never
    started (revoked before its validity began): it has no results to return."""
    return results_due(processing_end) if processing_end > valid_from else None


def deletion_due(processing_end: datetime) -> datetime:
    return add_months(processing_end, DELETION_DUE_MONTHS)
