"""Permit revenue, expenses, grants and balances over HTTP: whole cents only, safe
retries, nothing spent that is not there."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from coop.db import Database
from coop.money import service as money
from ledger import books, log
from tests import factories as f


def _setup(client: TestClient, database: Database) -> tuple[dict[str, str], int]:
    board = f.board(client, database)
    permit = client.post("/api/v1/permits", json=f.permit_body(), headers=f.api_key(database, "hdab")).json()
    return board, permit["id"]


def _pay(client: TestClient, board: dict, permit_id: int, **body: object):  # type: ignore[no-untyped-def]
    payload = {"id": "inv-2026-001", "received_on": "2026-03-01", "amount_cents": 250_000, "kind": "fee", **body}
    return client.post(f"/api/v1/permits/{permit_id}/payments", json=payload, headers=board)


def test_payment_expense_and_balances(client: TestClient, database: Database) -> None:
    board, permit_id = _setup(client, database)
    r = _pay(client, board, permit_id)
    assert r.status_code == 201 and r.json()["postings"] == [
        {"account": "assets:bank", "amount_cents": 250_000},
        {"account": f"income:permit:{permit_id}:fee", "amount_cents": -250_000},
    ]
    _pay(client, board, permit_id, id="share-1", received_on="2026-06-01", amount_cents=12_345, kind="benefit-share")
    e = client.post(
        "/api/v1/expenses",
        json={"id": "exp-1", "paid_on": "2026-04-01", "amount_cents": 10_000, "description": "hosting"},
        headers=board,
    )
    assert e.status_code == 201
    march = client.get("/api/v1/ledger/balances", params={"at": "2026-03-31"}, headers=board).json()
    by = {a["account"]: a["balance_cents"] for a in march["accounts"]}
    assert by["assets:bank"] == 250_000 and by["expenses:operations"] == 0 and march["debits_equal_credits"]
    now = {
        a["account"]: a["balance_cents"]
        for a in client.get("/api/v1/ledger/balances", headers=board).json()["accounts"]
    }
    assert now["assets:bank"] == 250_000 + 12_345 - 10_000
    assert now[f"income:permit:{permit_id}:benefit-share"] == 12_345
    with database.unit_of_work(write=False) as s:
        assert [e.type for e in log.events_after(s, 0, 1000)].count("money.entry") == 3


def test_retries_are_safe(client: TestClient, database: Database) -> None:
    board, permit_id = _setup(client, database)
    assert _pay(client, board, permit_id).status_code == 201
    assert _pay(client, board, permit_id).status_code == 200
    other = _pay(client, board, permit_id, amount_cents=1)
    assert other.status_code == 409 and other.json()["code"] == "entry-differs"
    assert other.json()["fields"] == ["amount_cents"]  # the request's fields, not the entry's
    later = _pay(client, board, permit_id, received_on="2026-03-02", kind="benefit-share")
    assert later.status_code == 409 and later.json()["fields"] == ["kind", "received_on"]


def test_a_retried_expense_or_grant_names_the_fields_that_differ(client: TestClient, database: Database) -> None:
    board, permit_id = _setup(client, database)
    assert _pay(client, board, permit_id).status_code == 201
    expense = {"id": "exp-1", "paid_on": "2026-04-01", "amount_cents": 10_000, "description": "hosting"}
    assert client.post("/api/v1/expenses", json=expense, headers=board).status_code == 201
    again = client.post("/api/v1/expenses", json={**expense, "description": "printing"}, headers=board)
    assert again.status_code == 409 and again.json()["fields"] == ["description"]
    with database.unit_of_work() as s:  # a distribution fills the solidarity fund; here, the test does
        books.post(
            s,
            books.Entry(
                "fill",
                date(2026, 1, 1),
                "fund",
                (books.Posting(money.RESERVE, 5_000), books.Posting(money.SOLIDARITY, -5_000)),
            ),
            "test",
        )
    grant = {
        "id": "g-1",
        "paid_on": "2026-04-01",
        "amount_cents": 500,
        "recipient": "Stichting Hart",
        "purpose": "care",
    }
    assert client.post("/api/v1/solidarity/grants", json=grant, headers=board).status_code == 201
    other = client.post(
        "/api/v1/solidarity/grants", json={**grant, "recipient": "Stichting Long", "amount_cents": 400}, headers=board
    )
    assert other.status_code == 409 and other.json()["fields"] == ["amount_cents", "recipient"]


def test_only_whole_positive_cents(client: TestClient, database: Database) -> None:
    board, permit_id = _setup(client, database)
    for amount in (12.5, 12.0, "1200", -5, 0, 10**14):
        r = _pay(client, board, permit_id, amount_cents=amount)
        assert r.status_code == 422, amount
        assert r.headers["content-type"] == "application/problem+json"
    assert _pay(client, board, permit_id, kind="donation").status_code == 422
    assert _pay(client, board, 999).status_code == 404
    with database.unit_of_work(write=False) as s:
        assert not [e for e in log.events_after(s, 0, 1000) if e.type == "money.entry"]


def test_nothing_is_spent_that_is_not_there(client: TestClient, database: Database) -> None:
    board, permit_id = _setup(client, database)
    _pay(client, board, permit_id, amount_cents=1_000)
    r = client.post(
        "/api/v1/expenses",
        json={"id": "exp-big", "paid_on": "2026-04-01", "amount_cents": 1_001, "description": "too much"},
        headers=board,
    )
    assert r.status_code == 409 and r.json()["code"] == "insufficient-funds"
    g = client.post(
        "/api/v1/solidarity/grants",
        json={
            "id": "g-1",
            "paid_on": "2026-04-01",
            "amount_cents": 500,
            "recipient": "Stichting Hart",
            "purpose": "patient education",
        },
        headers=board,
    )
    assert g.status_code == 409  # the solidarity fund is filled by distributions only


def test_who_handles_money(client: TestClient, database: Database) -> None:
    board, permit_id = _setup(client, database)
    m = f.member(client, board)
    assert _pay(client, m.headers, permit_id).status_code == 403
    assert client.get("/api/v1/ledger/balances", headers=f.api_key(database, "auditor")).status_code == 200
    assert client.get("/api/v1/ledger/balances", headers=m.headers).status_code == 403
    assert client.get("/api/v1/ledger/balances", headers=f.api_key(database, "hdab")).status_code == 403
