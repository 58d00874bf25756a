"""Reading what people type into the portal's forms: amounts in euros and moments in Dutch time."""

from __future__ import annotations

import re
from datetime import datetime

from coop.errors import Invalid
from coop.i18n import HOME_ZONE


def cents_of(amount: str, field: str = "amount") -> int:
    """An amount in euros as people type it (``1234,56``, ``1234.5``, ``€ 12``), in cents. An
    amount that could be read two ways (``1.234,56``) is refused rather than guessed."""
    written = amount.replace("€", "").replace(" ", "").strip()
    found = re.fullmatch(r"(\d{1,10})(?:[.,](\d{1,2}))?", written)
    if not found:
        raise Invalid("write an amount in euros, like 1234,56", code="amount-format", field=field)
    return int(found.group(1)) * 100 + int((found.group(2) or "0").ljust(2, "0"))


def positive_cents_of(amount: str, field: str = "amount") -> int:
    """As :func:`cents_of`, and more than nothing."""
    cents = cents_of(amount, field)
    if cents == 0:
        raise Invalid("write an amount in euros, like 1234,56", code="amount-format", field=field)
    return cents


def moment_of(value: str, field: str) -> datetime:
    """A ``datetime-local`` field, read in Dutch time."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=HOME_ZONE)
    except ValueError:
        raise Invalid(f"{field} is not a date and time", code="invalid-moment", field=field) from None


def local_field(moment: datetime) -> str:
    """A moment as a ``datetime-local`` field shows it, in Dutch time."""
    return moment.astimezone(HOME_ZONE).strftime("%Y-%m-%dT%H:%M")
