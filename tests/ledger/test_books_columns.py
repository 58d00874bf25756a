"""The books' array path (a distribution's closing entry, its payouts and its member accounts)
writes the same events and rows as the row-by-row path, makes the same checks, and leaves
`ledger verify` able to find a posting changed behind its back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from coop.db import Database
from coop.record.verification import verify_record
from coop.types import utcnow
from ledger import books
from ledger.books import Entry, Kind, Posting

MEMBERS = np.array([1_000_000_007, *range(2_499, 0, -1)], dtype=np.int64)
"""Enough members for an entry event to carry its postings' digest; codes of 1 to 10 digits,
not in code order."""


class _Undone(Exception):
    """Rolls a unit of work back once what it wrote has been read."""


def _written(database: Database, write: Callable[[Session], None]) -> dict[str, Any]:
    """The events and the books' rows ``write`` adds, read inside its transaction, then undone."""
    seen: dict[str, Any] = {}
    with pytest.raises(_Undone), database.unit_of_work() as s:
        first = s.execute(text("SELECT coalesce(max(seq), 0) FROM ledger_event")).scalar_one()
        write(s)
        seen["events"] = s.execute(
            text("SELECT type, subject, payload FROM ledger_event WHERE seq > :first ORDER BY seq"), {"first": first}
        ).all()
        seen["accounts"] = s.execute(
            text("SELECT code, kind, name, no_negative FROM money_account ORDER BY code")
        ).all()
        seen["postings"] = s.execute(
            text("SELECT entry_id, line, account, amount_cents FROM money_posting ORDER BY entry_id, line")
        ).all()
        raise _Undone
    return seen


def _codes(members: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.strings.add(b"liabilities:members:", members.astype(np.bytes_))


def _open_bank(database: Database) -> None:
    with database.unit_of_work() as s:
        books.open_account(s, "assets:bank", Kind.asset, "Bank", no_negative=True)
        books.open_account(s, "income:permit:1", Kind.income, "Permit 1")
        books.post(
            s,
            Entry(
                "pay-1",
                date(2026, 1, 5),
                "payment",
                (Posting("assets:bank", 10**12), Posting("income:permit:1", -(10**12))),
            ),
            "cli",
        )


def test_member_accounts_open_alike_on_both_paths(database: Database) -> None:
    _open_bank(database)
    names = np.strings.add(b"Dividends owed to member ", MEMBERS.astype(np.bytes_))
    by_rows = _written(
        database,
        lambda s: books.open_accounts(
            s,
            (
                (c, Kind.liability, f"Dividends owed to member {m}")
                for c, m in zip(_codes(MEMBERS).astype(str).tolist(), MEMBERS.tolist(), strict=True)
            ),
            "cli",
        ),
    )
    by_columns = _written(
        database, lambda s: books.open_accounts_columns(s, _codes(MEMBERS), Kind.liability, names, "cli")
    )
    assert by_columns == by_rows
    assert by_rows["events"][0][2].count('"count":2500') == 1  # too many to list: the count and digest


@pytest.mark.parametrize("many", [books.MANY, 10])  # the row path looks accounts up by key, or reads the chart
def test_a_second_year_opens_only_the_new_member_accounts_alike_on_both_paths(
    database: Database, many: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(books, "MANY", many)
    monkeypatch.setattr(books, "STREAMED", 700)  # the chart streams by in several batches
    _open_bank(database)
    with database.unit_of_work() as s:  # last year's members, one of them opened by the row path
        books.open_accounts_columns(
            s, _codes(MEMBERS[::2]), Kind.liability, np.strings.add(b"old ", MEMBERS[::2].astype(np.bytes_))
        )
        books.open_account(s, "liabilities:members:3", Kind.liability, "old 3")
    names = np.strings.add(b"new ", MEMBERS.astype(np.bytes_))
    rows = [
        (c, Kind.liability, n)
        for c, n in zip(_codes(MEMBERS).astype(str).tolist(), names.astype(str).tolist(), strict=True)
    ]
    by_rows = _written(database, lambda s: books.open_accounts(s, rows, "cli"))
    by_columns = _written(
        database, lambda s: books.open_accounts_columns(s, _codes(MEMBERS), Kind.liability, names, "cli")
    )
    assert by_columns == by_rows
    assert len(by_rows["accounts"]) == MEMBERS.size + 2  # and the bank and the permit's income
    assert by_rows["events"][0][2].count(f'"count":{MEMBERS.size - MEMBERS[::2].size - 1}') == 1

    def twice(s: Session) -> None:
        books.open_accounts_columns(s, _codes(MEMBERS), Kind.liability, names, "cli")
        books.open_accounts_columns(s, _codes(MEMBERS), Kind.liability, names, "cli")

    assert len(_written(database, twice)["events"]) == 1


def _closing(members: np.ndarray[Any, Any], seed: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The bank pays every member a share (some large, some of a cent), in the code order."""
    cents = np.random.default_rng(seed).integers(1, 10**11, members.size)
    cents[::7] = 1
    codes = np.sort(_codes(members))
    return np.concatenate([codes, [b"assets:bank"]]), np.concatenate([-cents, [int(cents.sum())]])


def test_a_closing_entry_posts_alike_on_both_paths(database: Database) -> None:
    _open_bank(database)
    with database.unit_of_work() as s:
        names = np.strings.add(b"member ", MEMBERS.astype(np.bytes_))
        books.open_accounts_columns(s, _codes(MEMBERS), Kind.liability, names, "cli")
    codes, cents = _closing(MEMBERS, 1)
    assert (
        len(books.postings_text(zip(codes.astype(str).tolist(), cents.tolist(), strict=True)))
        > books.LISTED_POSTINGS_BYTES
    )
    postings = tuple(Posting(a, c) for a, c in zip(codes.astype(str).tolist(), cents.tolist(), strict=True))
    by_rows = _written(
        database, lambda s: books.post(s, Entry("close", date(2026, 12, 31), "closing", postings), "cli")
    )
    by_columns = _written(
        database, lambda s: books.post_columns(s, "close", date(2026, 12, 31), "closing", codes, cents, "cli")
    )
    assert by_columns == by_rows
    assert len(by_rows["postings"]) == codes.size + 2  # and the two of the payment to the bank
    with database.unit_of_work() as s:
        assert books.post_columns(s, "close", date(2026, 12, 31), "closing", codes, cents, "cli")
    with database.unit_of_work() as s:  # the same entry again: recorded already, nothing written
        assert not books.post_columns(s, "close", date(2026, 12, 31), "closing", codes, cents, "cli")
    with pytest.raises(books.EntryConflict), database.unit_of_work() as s:
        books.post_columns(s, "close", date(2026, 12, 30), "closing", codes, cents, "cli")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda codes, cents: (codes, np.concatenate([cents[:-1], [cents[-1] + 1]])), books.Unbalanced),
        (lambda codes, cents: (np.concatenate([codes[:-1], [b"assets:elsewhere"]]), cents), books.UnknownAccount),
        (lambda codes, cents: (np.concatenate([codes[:-1], [b"assets bank"]]), cents), books.BooksError),
        (lambda codes, cents: (codes, np.concatenate([cents[:-2], [0, cents[-2] + cents[-1]]])), books.BooksError),
        (lambda codes, cents: (codes, -cents), books.WouldGoNegative),  # the bank pays more than it has
    ],
)
def test_the_array_path_refuses_what_the_books_refuse(database: Database, change: Any, error: type[Exception]) -> None:
    _open_bank(database)
    with database.unit_of_work() as s:
        books.open_accounts_columns(s, _codes(MEMBERS), Kind.liability, np.strings.add(b"m", MEMBERS.astype(np.bytes_)))
    codes, cents = change(*_closing(MEMBERS, 2))
    with pytest.raises(error), database.unit_of_work() as s:
        books.post_columns(s, "close", date(2026, 12, 31), "closing", codes, cents, "cli")
    with database.unit_of_work(write=False) as s:
        assert s.execute(text("SELECT count(*) FROM money_entry WHERE id = 'close'")).scalar_one() == 0


def _tamper(database: Database, table: str, statement: str) -> None:
    with database.write_engine.begin() as conn:
        if database.dialect == "postgresql":
            conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_update")
        conn.exec_driver_sql(statement)


def _verified(database: Database) -> bool:
    with database.unit_of_work(write=False) as s:
        keys = {database.signer.key_id: database.signer.public_key}
        return verify_record(s.connection(), database.settings, keys, now=utcnow()).ok


@pytest.mark.parametrize(
    ("table", "statement"),
    [  # a cent moved between two members: the entry still balances, its event's digest does not
        (
            "money_posting",
            "UPDATE money_posting SET amount_cents = amount_cents + CASE line WHEN 5 THEN 1 ELSE -1 END "
            "WHERE entry_id = 'close' AND line IN (5, 6)",
        ),
        ("money_account", "UPDATE money_account SET name = 'm0' WHERE code = 'liabilities:members:7'"),
    ],
)
def test_verify_finds_rows_of_the_array_path_changed_behind_its_back(
    database: Database, table: str, statement: str
) -> None:
    _open_bank(database)
    codes, cents = _closing(MEMBERS, 3)
    with database.unit_of_work() as s:
        books.open_accounts_columns(s, _codes(MEMBERS), Kind.liability, np.strings.add(b"m", MEMBERS.astype(np.bytes_)))
        books.post_columns(s, "close", date(2026, 12, 31), "closing", codes, cents, "cli")
    assert _verified(database)
    _tamper(database, table, statement)
    assert not _verified(database)


GUARDED = f"liabilities:members:{MEMBERS[3]}"


def _debited(codes: np.ndarray[Any, Any], cents: np.ndarray[Any, Any], code: str) -> np.ndarray[Any, Any]:
    """The entry with ``code`` debited instead of credited, another member credited the more."""
    changed = cents.copy()
    at = int(np.flatnonzero(codes == code.encode())[0])
    other = (at + 1) % (codes.size - 1)
    changed[other] -= 2 * -changed[at]
    changed[at] = -changed[at]
    return changed


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda codes, cents: (np.concatenate([codes[:-1], [b"assets:elsewhere"]]), cents), books.UnknownAccount),
        (lambda codes, cents: (codes, _debited(codes, cents, GUARDED)), books.WouldGoNegative),
    ],
)
def test_a_second_year_in_one_transaction_still_checks_every_account(
    database: Database, change: Any, error: type[Exception]
) -> None:
    """Accounts the transaction found open are not looked up again when the entry is posted,
    but a no-negative one among them, and one that is not there, still are."""
    _open_bank(database)
    with database.unit_of_work() as s:  # last year
        books.open_account(s, GUARDED, Kind.liability, "guarded", no_negative=True)
        books.open_accounts_columns(s, _codes(MEMBERS), Kind.liability, np.strings.add(b"m", MEMBERS.astype(np.bytes_)))
    codes, cents = change(*_closing(MEMBERS, 4))
    with pytest.raises(error), database.unit_of_work() as s:
        books.open_accounts_columns(s, _codes(MEMBERS), Kind.liability, np.strings.add(b"m", MEMBERS.astype(np.bytes_)))
        books.post_columns(s, "close", date(2027, 12, 31), "closing", codes, cents, "cli")
    with database.unit_of_work(write=False) as s:
        assert s.execute(text("SELECT count(*) FROM money_entry WHERE id = 'close'")).scalar_one() == 0


@pytest.mark.parametrize("path", ["columns", "rows"])
def test_accounts_opened_in_a_savepoint_rolled_back_are_unknown_again(database: Database, path: str) -> None:
    """The books remember the accounts a transaction opened; a savepoint rolled back takes
    them away, and an entry naming them is refused, not posted to accounts that are gone."""
    _open_bank(database)
    codes, cents = _closing(MEMBERS, 5)
    names = np.strings.add(b"m", MEMBERS.astype(np.bytes_))
    with pytest.raises(books.UnknownAccount), database.unit_of_work() as s:
        with pytest.raises(_Undone), s.begin_nested():
            if path == "columns":
                books.open_accounts_columns(s, _codes(MEMBERS), Kind.liability, names, "cli")
            else:
                books.open_accounts(s, ((c, Kind.liability, "m") for c in _codes(MEMBERS).astype(str).tolist()))
            raise _Undone
        members = "SELECT count(*) FROM money_account WHERE code LIKE 'liabilities:members:%'"
        assert s.execute(text(members)).scalar_one() == 0  # the savepoint took them away
        if path == "columns":
            books.post_columns(s, "close", date(2026, 12, 31), "closing", codes, cents, "cli")
        else:
            postings = tuple(Posting(a, c) for a, c in zip(codes.astype(str).tolist(), cents.tolist(), strict=True))
            books.post(s, Entry("close", date(2026, 12, 31), "closing", postings), "cli")
    with database.unit_of_work(write=False) as s:
        assert s.execute(text("SELECT count(*) FROM money_entry WHERE id = 'close'")).scalar_one() == 0


@pytest.mark.parametrize(
    "wanted",
    [
        [b"a_b:1", b"a_b:2", b"a_b:3"],  # _ matches any character in LIKE
        [b"x.y/1", b"x.y/2"],
        [b"A_B:1", b"zz"],  # no common prefix
        [],
        [b"a_b:1"],
    ],
)
def test_accounts_open_alike_on_both_paths_whatever_their_codes(database: Database, wanted: list[bytes]) -> None:
    """Stored look-alikes (a wildcard's match, another case, no-negative ones) change nothing."""
    _open_bank(database)
    with database.unit_of_work() as s:
        for code in ("aXb:1", "A_B:2", "a_b:3"):
            books.open_account(s, code, Kind.liability, "x", no_negative=True)
    codes, names = np.array(wanted, dtype="S10"), np.array([b"n"] * len(wanted), dtype="S2")
    by_rows = _written(database, lambda s: books.open_accounts(s, [(c.decode(), Kind.liability, "n") for c in wanted]))
    by_columns = _written(database, lambda s: books.open_accounts_columns(s, codes, Kind.liability, names))
    assert by_columns == by_rows


def test_accounts_opened_before_a_rollback_are_unknown_after_it(database: Database) -> None:
    _open_bank(database)
    codes, cents = _closing(MEMBERS, 7)
    names = np.strings.add(b"m", MEMBERS.astype(np.bytes_))
    with pytest.raises(books.UnknownAccount), database.unit_of_work() as s:
        books.open_accounts_columns(s, _codes(MEMBERS), Kind.liability, names)
        s.rollback()
        books.post_columns(s, "close", date(2026, 12, 31), "closing", codes, cents, "cli")
