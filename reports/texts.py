"""How the reports write codes, amounts and dates in each language. Their sentences and
headings are messages in the cooperative's catalogue (``coop/locale``, see
:mod:`coop.i18n`)."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from coop import i18n
from coop.vocabulary.terms import CATEGORIES, Category


def word(value: str, lang: str) -> str:
    """A short word for a status, user type, purpose or preference; kinds of data by the
    vocabulary's names."""
    found = i18n.word(value, lang)
    if found is not None:
        return found
    try:
        return str(getattr(CATEGORIES[Category(value)], lang))
    except ValueError:
        return value


def euros(cents: int, lang: str) -> str:
    """``€ 1.234,56`` in Dutch, ``€1,234.56`` in English; exact, from integer cents."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    grouped = f"{whole:,}"
    if lang == "nl":
        return f"{sign}€ {grouped.replace(',', '.')},{rest:02d}"
    return f"{sign}€{grouped}.{rest:02d}"


def day(value: date, lang: str) -> str:
    """``1 maart 2026``, ``1 March 2026``: the day, the month's name in ``lang`` (CLDR's),
    the year."""
    return format_date(value, "d MMMM y", locale=lang)
