"""The cooperative's chart of accounts, and the entries its money flows make."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from ledger import books
from ledger.books import Entry, Kind, Posting

BANK = "assets:bank"
OPERATIONS = "expenses:operations"
RESERVE = "equity:reserve"
SOLIDARITY = "equity:solidarity-fund"


def permit_income(permit_id: int, kind: str) -> str:
    return f"income:permit:{permit_id}:{kind}"


def member_payable(member_id: int) -> str:
    return f"liabilities:members:{member_id}"


def open_standard(session: Session, actor: str) -> None:
    books.open_account(session, BANK, Kind.asset, "Bank", no_negative=True, actor=actor)
    books.open_account(session, OPERATIONS, Kind.expense, "Operating expenses", actor=actor)
    books.open_account(session, RESERVE, Kind.equity, "Indivisible reserve", actor=actor)
    books.open_account(
        session, SOLIDARITY, Kind.equity, "Solidarity fund (grants to society)", no_negative=True, actor=actor
    )


def payment(
    session: Session, key: str, permit_id: int, received_on: date, cents: int, kind: str, actor: str
) -> tuple[Entry, bool]:
    open_standard(session, actor)
    income = books.open_account(
        session, permit_income(permit_id, kind), Kind.income, f"Permit {permit_id}: {kind}", actor=actor
    ).code
    entry = Entry(
        f"payment:{key}", received_on, f"{kind} for permit {permit_id}", (Posting(BANK, cents), Posting(income, -cents))
    )
    return books.post(session, entry, actor)


def expense(session: Session, key: str, paid_on: date, cents: int, description: str, actor: str) -> tuple[Entry, bool]:
    open_standard(session, actor)
    entry = Entry(f"expense:{key}", paid_on, description, (Posting(OPERATIONS, cents), Posting(BANK, -cents)))
    return books.post(session, entry, actor)


def grant(
    session: Session, key: str, paid_on: date, cents: int, recipient: str, purpose: str, actor: str
) -> tuple[Entry, bool]:
    """A grant from the solidarity fund to society."""
    open_standard(session, actor)
    description = f"solidarity grant to {recipient}: {purpose}"[:500]
    entry = Entry(f"grant:{key}", paid_on, description, (Posting(SOLIDARITY, cents), Posting(BANK, -cents)))
    return books.post(session, entry, actor)
