"""How the reports write codes, amounts and dates in each language. Their sentences and
headings are messages in the cooperative's catalogue (``coop/locale``, see
:mod:`coop.i18n`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from coop import i18n
from coop.vocabulary.terms import CATEGORIES, PROHIBITED_USES, Category, ProhibitedUse


def word(value: str, lang: str) -> str:
    """A short word for a status, user type, purpose or preference; kinds of data and
    prohibited uses by the vocabulary's names."""
    found = i18n.word(value, lang)
    if found is not None:
        return found
    for kind, terms in ((Category, CATEGORIES), (ProhibitedUse, PROHIBITED_USES)):
        try:
            return str(getattr(terms[kind(value)], lang))  # type: ignore[index]
        except ValueError:
            continue
    return value


def document_info(lang: str, title: str, subject: str) -> dict[str, str]:
    """What a PDF says about itself (its title, subject, author and maker, and its language
    for readers and screen readers), all in the document's language."""
    site = i18n.translator(lang)("site")
    return {"title": title, "subject": subject, "author": site, "creator": site, "lang": lang}


def euros(cents: int, lang: str) -> str:
    """``€ 1.234,56`` in Dutch, ``€1,234.56`` in English: CLDR's way of writing euros in
    ``lang``; exact, from integer cents."""
    amount = format_currency(Decimal(cents).scaleb(-2), "EUR", locale=lang)
    # a plain space, as the PDFs' text has always had: readers search and copy it
    return amount.replace("\N{NO-BREAK SPACE}", " ")


def number(value: float, lang: str) -> str:
    """A whole number with the language's thousands separator: ``40.000``, ``40,000``."""
    return format_decimal(round(value), format="#,##0", locale=lang)


def day(value: date, lang: str) -> str:
    """``1 maart 2026``, ``1 March 2026``: the day, the month's name in ``lang`` (CLDR's),
    the year."""
    return format_date(value, "d MMMM y", locale=lang)
