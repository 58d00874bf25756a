"""Money's writes: the cooperative's chart of accounts, and the entries its money flows make
(distributions, which pay members, are in :mod:`coop.money.distributions`).

A payment, expense or grant sent again with its id gives the entry recorded then; sent with
other content, a 409 that names the fields of the request that differ (not the entry's)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from coop.auth.policy import Actor
from coop.idempotency import require_same
from coop.money import periods
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


def open_standard(session: Session, actor: Actor) -> None:
    by = actor.ledger_name
    books.open_account(session, BANK, Kind.asset, "Bank", no_negative=True, actor=by)
    books.open_account(session, OPERATIONS, Kind.expense, "Operating expenses", actor=by)
    books.open_account(session, RESERVE, Kind.equity, "Indivisible reserve", actor=by)
    books.open_account(
        session, SOLIDARITY, Kind.equity, "Solidarity fund (grants to society)", no_negative=True, actor=by
    )


def payment(
    session: Session, actor: Actor, key: str, permit_id: int, received_on: date, cents: int, kind: str, *, now: datetime
) -> tuple[Entry, bool]:
    open_standard(session, actor)
    income = books.open_account(
        session, permit_income(permit_id, kind), Kind.income, f"Permit {permit_id}: {kind}", actor=actor.ledger_name
    ).code
    entry = Entry(
        f"payment:{key}", received_on, f"{kind} for permit {permit_id}", (Posting(BANK, cents), Posting(income, -cents))
    )

    def asked(e: Entry) -> dict[str, Any]:
        _, _, permit, kind_of = _other(e, BANK).account.split(":", 3)
        return {"permit_id": int(permit), "received_on": e.booked_on, "amount_cents": _from(e, BANK), "kind": kind_of}

    return _post(session, actor, entry, f"payment {key}", asked, now, "received_on")


def expense(
    session: Session, actor: Actor, key: str, paid_on: date, cents: int, description: str, *, now: datetime
) -> tuple[Entry, bool]:
    open_standard(session, actor)
    entry = Entry(f"expense:{key}", paid_on, description, (Posting(OPERATIONS, cents), Posting(BANK, -cents)))

    def asked(e: Entry) -> dict[str, Any]:
        return {"paid_on": e.booked_on, "amount_cents": -_from(e, BANK), "description": e.description}

    return _post(session, actor, entry, f"expense {key}", asked, now, "paid_on")


def grant(
    session: Session, actor: Actor, key: str, paid_on: date, cents: int, recipient: str, purpose: str, *, now: datetime
) -> tuple[Entry, bool]:
    """A grant from the solidarity fund to society."""
    open_standard(session, actor)
    description = _grant_description(recipient, purpose)
    entry = Entry(f"grant:{key}", paid_on, description, (Posting(SOLIDARITY, cents), Posting(BANK, -cents)))

    def asked(e: Entry) -> dict[str, Any]:
        named = e.description.startswith(_grant_description(recipient, ""))
        return {
            "paid_on": e.booked_on,
            "amount_cents": -_from(e, BANK),
            "recipient": recipient if named else None,
            "purpose": purpose if e.description == description or e.description.endswith(f": {purpose}") else None,
        }

    return _post(session, actor, entry, f"grant {key}", asked, now, "paid_on")


def _grant_description(recipient: str, purpose: str) -> str:
    return f"solidarity grant to {recipient}: {purpose}"[:500]


def _from(entry: Entry, account: str) -> int:
    return sum(p.amount_cents for p in entry.postings if p.account == account)


def _other(entry: Entry, account: str) -> Posting:
    return next(p for p in entry.postings if p.account != account)


def _post(
    session: Session,
    actor: Actor,
    entry: Entry,
    what: str,
    asked: Callable[[Entry], dict[str, Any]],
    now: datetime,
    dated: str,
) -> tuple[Entry, bool]:
    """:func:`ledger.books.post` of a new entry on a day open for booking (``dated`` names
    the request's date field); a retry gives the entry recorded then, whatever has closed
    since; a conflict names the request's fields in which the recorded entry differs
    (``asked`` reads a request back from an entry)."""
    if books.recorded(session, entry.id) is None:
        periods.require_open(session, entry.booked_on, now, dated)
    try:
        return books.post(session, entry, actor.ledger_name)
    except books.EntryConflict as conflict:
        require_same(asked(entry), asked(conflict.earlier), what, "entry-differs")
        raise
