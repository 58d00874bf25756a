"""The books as a beancount file, for checking with ``bean-check`` and for any tool that
reads beancount.

Accounts become ``Assets:Bank``-style names (each segment capitalised), amounts are
written from integer cents as exact decimals in EUR, and the file ends with a balance
assertion for every account, with tolerance ``~ 0.00``, dated the day after the last
entry: beancount recomputes every balance and must agree with ours to the cent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.models import MoneyAccount, MoneyEntry, MoneyPosting


def beancount_name(code: str) -> str:
    return ":".join(part[:1].upper() + part[1:] for part in code.split(":"))


def euros(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def beancount(session: Session) -> Iterator[str]:
    """The whole file, line by line."""
    accounts = list(session.execute(select(MoneyAccount).order_by(col(MoneyAccount.code))).scalars())
    entries = list(
        session.execute(select(MoneyEntry).order_by(col(MoneyEntry.booked_on), col(MoneyEntry.id))).scalars()
    )
    postings: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for entry_id, account, cents in session.execute(
        select(col(MoneyPosting.entry_id), col(MoneyPosting.account), col(MoneyPosting.amount_cents)).order_by(
            col(MoneyPosting.entry_id), col(MoneyPosting.line)
        )
    ):
        postings[entry_id].append((account, int(cents)))
    first_day = entries[0].booked_on if entries else date(2000, 1, 1)
    yield 'option "title" "Health-data cooperative: the books"'
    yield 'option "operating_currency" "EUR"'
    yield ""
    for a in accounts:
        yield f"{first_day.isoformat()} open {beancount_name(a.code)} EUR"
    totals: dict[str, int] = defaultdict(int)
    for e in entries:
        yield ""
        yield f"{e.booked_on.isoformat()} * {_quoted(e.description)}"
        yield f"  entry_id: {_quoted(e.id)}"
        for account, cents in postings[e.id]:
            totals[account] += cents
            yield f"  {beancount_name(account)}  {euros(cents)} EUR"
    last = (entries[-1].booked_on if entries else first_day) + timedelta(days=1)
    yield ""
    for a in accounts:
        yield f"{last.isoformat()} balance {beancount_name(a.code)}  {euros(totals[a.code])} ~ 0.00 EUR"
