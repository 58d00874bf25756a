"""The double-entry books: balanced integer entries, idempotent ids, immutability,
balances as of any date, no-negative accounts, reversals, and an event per entry."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from coop.db import Database
from ledger import books, log
from ledger.books import Entry, Kind, Posting
from ledger.verify import verify


def _open(database: Database) -> None:
    with database.unit_of_work() as s:
        books.open_account(s, "assets:bank", Kind.asset, "Bank", no_negative=True)
        books.open_account(s, "income:permit:1", Kind.income, "Permit 1")
        books.open_account(s, "expenses:operations", Kind.expense, "Operations")
        books.open_account(s, "equity:reserve", Kind.equity, "Reserve")


def _entry(id_: str, day: int, *postings: tuple[str, int]) -> Entry:
    return Entry(id_, date(2026, 1, day), f"entry {id_}", tuple(Posting(a, c) for a, c in postings))


def test_balances_as_of_any_date(database: Database) -> None:
    _open(database)
    with database.unit_of_work() as s:
        books.post(s, _entry("pay-1", 5, ("assets:bank", 100_000), ("income:permit:1", -100_000)), "cli")
        books.post(s, _entry("exp-1", 10, ("expenses:operations", 25_050), ("assets:bank", -25_050)), "cli")
    with database.unit_of_work(write=False) as s:
        early = books.balances(s, date(2026, 1, 7))
        late = books.balances(s)
        events = [e.type for e in log.events_after(s, 0, 100)]
    assert early["assets:bank"] == (Kind.asset, 100_000) and early["expenses:operations"] == (Kind.expense, 0)
    assert late["assets:bank"] == (Kind.asset, 74_950) and late["income:permit:1"] == (Kind.income, 100_000)
    assert events == ["money.accounts-opened"] * 4 + ["money.entry", "money.entry"]


def test_entry_ids_are_idempotency_keys(database: Database) -> None:
    _open(database)
    entry = _entry("pay-1", 5, ("assets:bank", 500), ("income:permit:1", -500))
    with database.unit_of_work() as s:
        assert books.post(s, entry, "cli")[1] is True
    with database.unit_of_work() as s:
        assert books.post(s, entry, "cli")[1] is False
    other = _entry("pay-1", 6, ("assets:bank", 600), ("income:permit:1", -600))
    with pytest.raises(books.EntryConflict) as info, database.unit_of_work() as s:
        books.post(s, other, "cli")
    assert info.value.fields == ["booked_on", "postings"]


@pytest.mark.parametrize(
    ("postings", "error"),
    [
        ((("assets:bank", 100), ("income:permit:1", -99)), books.Unbalanced),
        ((("assets:bank", 100),), books.BooksError),
        ((("assets:bank", 1.5), ("income:permit:1", -1.5)), books.BooksError),
        ((("assets:bank", True), ("income:permit:1", -1)), books.BooksError),
        ((("assets:bank", 0), ("income:permit:1", 0)), books.BooksError),
        ((("assets:nowhere", 100), ("income:permit:1", -100)), books.UnknownAccount),
        ((("income:permit:1", 100), ("assets:bank", -100)), books.WouldGoNegative),
    ],
)
def test_refused_entries_write_nothing(database: Database, postings: tuple, error: type) -> None:
    _open(database)
    with database.unit_of_work(write=False) as s:
        opened = log.tree_size(s)
    with pytest.raises(error), database.unit_of_work() as s:
        books.post(s, _entry("bad-1", 5, *postings), "cli")
    with database.unit_of_work(write=False) as s:
        assert books.balances(s)["assets:bank"][1] == 0
        assert log.tree_size(s) == opened


def test_corrections_are_reversals(database: Database) -> None:
    _open(database)
    with database.unit_of_work() as s:
        books.post(s, _entry("exp-1", 5, ("expenses:operations", 700), ("equity:reserve", -700)), "cli")
        books.reverse(s, "exp-1", "exp-1-reversal", date(2026, 1, 6), "cli")
    with database.unit_of_work(write=False) as s:
        assert books.balances(s)["expenses:operations"][1] == 0
    with pytest.raises(DBAPIError, match="append-only"), database.unit_of_work() as s:
        s.execute(text("UPDATE money_posting SET amount_cents = 1"))


operations = st.lists(
    st.tuples(st.sampled_from(["payment", "expense", "transfer"]), st.integers(1, 10**7)), min_size=1, max_size=25
)


def test_no_money_is_created_or_lost(database: Database) -> None:
    _open(database)
    counter = iter(range(10**6))

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(ops=operations)
    def check(ops: list[tuple[str, int]]) -> None:
        for kind, cents in ops:
            a, b = {
                "payment": ("assets:bank", "income:permit:1"),
                "expense": ("expenses:operations", "assets:bank"),
                "transfer": ("expenses:operations", "equity:reserve"),
            }[kind]
            try:
                with database.unit_of_work() as s:
                    books.post(s, _entry(f"op-{next(counter)}", 5, (a, cents), (b, -cents)), "cli")
            except books.WouldGoNegative:
                pass  # the bank may not go below zero; nothing was written
        with database.unit_of_work(write=False) as s:
            total = sum(
                balance if kind in books.DEBIT_NORMAL else -balance for kind, balance in books.balances(s).values()
            )
        assert total == 0  # debit balances equal credit balances, to the cent

    check()


def test_verify_finds_postings_the_books_would_never_write(database: Database) -> None:
    """The postings carry no foreign keys (see ledger.models.MoneyPosting); `ledger verify`
    is what catches a posting without entry or account, or an entry that does not balance."""
    _open(database)
    with database.unit_of_work() as s:
        books.post(s, _entry("pay-1", 5, ("assets:bank", 100_000), ("income:permit:1", -100_000)), "cli")
    trusted = {database.signer.key_id: database.signer.public_key}
    with database.unit_of_work(write=False) as s:
        assert verify(s.connection(), trusted).ok
    with database.unit_of_work() as s:
        s.execute(
            text(
                "INSERT INTO money_posting (entry_id, line, account, amount_cents) VALUES "
                "('pay-1', 2, 'assets:elsewhere', 5), ('ghost', 0, 'assets:bank', 7)"
            )
        )
    with database.unit_of_work(write=False) as s:
        report = verify(s.connection(), trusted)
    assert not report.ok
    assert any("without their entry: ghost" in p for p in report.problems)
    assert any("accounts that do not exist: assets:elsewhere" in p for p in report.problems)
    assert any("do not sum to zero: ghost, pay-1" in p for p in report.problems)


@given(name=st.text(max_size=40), code=st.from_regex(books.ACCOUNT, fullmatch=True), no_negative=st.booleans())
def test_an_account_line_is_canonical_json(name: str, code: str, no_negative: bool) -> None:
    line = books.account_line(code, "liability", name, no_negative)
    assert line == json.dumps([code, "liability", name, no_negative], ensure_ascii=False, separators=(",", ":")) + "\n"


@pytest.mark.parametrize("count", [7_499, 7_500])  # the shortest postings: 8 bytes each, with their comma
def test_entry_events_list_postings_while_they_fit(count: int) -> None:
    postings = [("a", 1)] * count
    listed = books.postings_text(postings)
    recorded = books.postings_recorded(postings)
    if len(listed) <= books.LISTED_POSTINGS_BYTES:
        assert recorded == listed and count == 7_499
    else:
        assert json.loads(recorded)["count"] == count == 7_500


_ODD_ACCOUNTS = st.one_of(
    st.from_regex(books.ACCOUNT, fullmatch=True), st.text(max_size=130), st.sampled_from(["a\nb", "a" * 121, ""])
)
_ODD_CENTS = st.one_of(st.integers(-(10**16), 10**16), st.sampled_from([0, 1.5, True, books.MAX_CENTS + 1]))


@given(st.lists(st.tuples(_ODD_ACCOUNTS, _ODD_CENTS), max_size=8))
def test_postings_are_checked_at_once_as_one_by_one(postings: list[tuple[str, int]]) -> None:
    one_by_one = all(
        books.ACCOUNT.fullmatch(a) and type(c) is int and c != 0 and abs(c) <= books.MAX_CENTS for a, c in postings
    )
    assert books._postings_well_formed(postings) == one_by_one
