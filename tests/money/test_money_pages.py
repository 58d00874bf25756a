"""The board books money in the portal: a permit's payment, an expense, a grant from the
solidarity fund. Each is said in words and confirmed before it is booked; confirming twice
books once; a refused booking says why and books nothing; members cannot."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

import pytest
from fastapi.testclient import TestClient

from coop.db import Database
from coop.errors import Invalid
from coop.portal.forms import positive_cents_of as cents_of
from coop.types import utcnow
from tests import factories as f
from tests.conftest import Clock


def _fields(html: str, form_action: str) -> dict[str, str]:
    form = re.search(rf'<form method="post" action="{re.escape(form_action)}">(.*?)</form>', html, re.S)
    assert form, form_action
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)))


def test_a_payment_is_said_in_words_confirmed_and_booked_once(client: TestClient, database: Database) -> None:
    _hdab, permit, _people = f.registered(client, database, members=1)
    board = f.board(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    page = client.get("/board/money")
    assert page.status_code == 200 and "Een betaling voor een vergunning" in page.text
    form = _fields(page.text, "/board/money/confirm?what=payment")
    today = re.search(r'id="payment-on" name="on" type="date" value="([0-9-]+)"', page.text)
    assert today
    sent = {**form, "permit_id": str(permit["id"]), "kind": "fee", "on": today.group(1), "amount": "4.500,00"}
    refused = client.post("/board/money/confirm", params={"what": "payment"}, data=sent, follow_redirects=False)
    assert refused.headers["location"] == "/board/money?error=amount-format", "a thousands point is not an amount"
    sent["amount"] = "4500,5"
    confirm = client.post("/board/money/confirm", params={"what": "payment"}, data=sent)
    assert confirm.status_code == 200
    assert "€ 4.500,50 ontvangen op" in confirm.text and permit["permit_number"] in confirm.text
    assert "assets:bank" not in f.balances(client, board), "nothing booked before it is confirmed"

    book = _fields(confirm.text, "/board/money/book?what=payment")
    for _ in range(2):
        done = client.post("/board/money/book", params={"what": "payment"}, data=book, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/board/money?saved=1"
    assert f.balances(client, board)["assets:bank"] == 450_050, "booked once"
    assert "€ 4.500,50" in client.get("/board/money").text


def test_a_grant_larger_than_the_fund_is_refused_and_said_so(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    page = client.get("/board/money")
    form = _fields(page.text, "/board/money/confirm?what=grant")
    sent = {**form, "on": "2026-01-05", "amount": "100", "recipient": "Stichting Hart", "description": "onderzoek"}
    confirm = client.post("/board/money/confirm", params={"what": "grant"}, data=sent)
    assert "€ 100,00 betaald op 5 januari 2026 uit het solidariteitsfonds aan Stichting Hart" in confirm.text
    book = _fields(confirm.text, "/board/money/book?what=grant")
    refused = client.post("/board/money/book", params={"what": "grant"}, data=book, follow_redirects=False)
    assert refused.headers["location"] == "/board/money?error=insufficient-funds"
    assert client.get(refused.headers["location"]).status_code == 200
    assert f.balances(client, board).get("equity:solidarity-fund", 0) == 0


def test_an_expense_dated_in_the_future_is_refused(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    page = client.get("/board/money")
    form = _fields(page.text, "/board/money/confirm?what=expense")
    sent = {**form, "on": "2999-01-01", "amount": "10", "description": "hosting"}
    confirm = client.post("/board/money/confirm", params={"what": "expense"}, data=sent)
    book = _fields(confirm.text, "/board/money/book?what=expense")
    refused = client.post("/board/money/book", params={"what": "expense"}, data=book, follow_redirects=False)
    assert refused.headers["location"] == "/board/money?error=date-in-future"
    assert "Deze datum ligt in de toekomst." in client.get(refused.headers["location"]).text
    assert "assets:bank" not in f.balances(client, board)


def test_late_at_night_the_form_offers_the_day_the_books_accept(
    client: TestClient, database: Database, clock: Clock
) -> None:
    """At 23:30 UTC it is already the next day in Amsterdam. The books date against today in
    UTC (as the API says), so the form offers that day: booking it is not refused as future."""
    _hdab, permit, _people = f.registered(client, database, members=1)
    f.board(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    late = datetime.combine(utcnow().date(), time(23, 30), UTC)
    with clock.at(late):
        page = client.get("/board/money")
        offered = re.search(r'id="payment-on" name="on" type="date" value="([0-9-]+)"', page.text)
        assert offered and offered.group(1) == late.date().isoformat()
        form = _fields(page.text, "/board/money/confirm?what=payment")
        sent = {**form, "permit_id": str(permit["id"]), "kind": "fee", "on": offered.group(1), "amount": "10"}
        confirm = client.post("/board/money/confirm", params={"what": "payment"}, data=sent)
        book = _fields(confirm.text, "/board/money/book?what=payment")
        done = client.post("/board/money/book", params={"what": "payment"}, data=book, follow_redirects=False)
        assert done.headers["location"] == "/board/money?saved=1"


def test_a_member_cannot_book_money(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    anna = f.member(client, board)
    f.portal_login(client, anna.email)
    assert client.get("/board/money").status_code == 403
    me = client.get("/me")
    data = {"csrf": f.csrf(me.text), "key": "0" * 32, "on": "2026-01-01", "amount": "10", "description": "x"}
    assert client.post("/board/money/book", params={"what": "expense"}, data=data).status_code == 403
    assert "assets:bank" not in f.balances(client, board)


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("1234,56", 123_456), ("1234.5", 123_450), ("€ 12", 1_200), ("0,01", 1), ("7", 700)],
)
def test_amounts_are_read_as_people_type_them(typed: str, cents: int) -> None:
    assert cents_of(typed) == cents


@pytest.mark.parametrize("typed", ["1.234,56", "12,345", "-5", "0", "0,00", "", "abc", "1e3"])
def test_an_amount_that_is_not_clear_is_refused(typed: str) -> None:
    with pytest.raises(Invalid):
        cents_of(typed)
