"""Money periods: a period is distributed once it has ended, and its distribution closes it;
no booking is dated in the future or in a closed period, and a retry still gives the
entry recorded before the period closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from coop.db import Database
from coop.types import utcnow
from ledger import log
from tests import factories as f
from tests.conftest import Clock

LAST_DAY = datetime(f.YEAR, 12, 31, 18, tzinfo=UTC)  # the period's own last day: it has not ended


def _events(database: Database) -> int:
    with database.unit_of_work(write=False) as s:
        return log.tree_size(s)


def test_a_period_is_distributed_once_it_has_ended(client: TestClient, database: Database, clock: Clock) -> None:
    board, _people, permit_id = f.cooperative(client, database)
    f.money(client, board, permit_id, income=100_000)
    clock.moment = LAST_DAY
    early = client.post("/api/v1/distributions", json=f.PERIOD, headers=board)
    assert early.status_code == 422, early.text
    problem = early.json()
    assert problem["code"] == "period-not-ended" and problem["distributable_from"] == f"{f.NEXT}-01-01"
    assert f"{f.NEXT}-01-01" in problem["detail"]
    clock.moment = f.AFTER
    draft = client.post("/api/v1/distributions", json=f.PERIOD, headers=board)
    assert draft.status_code == 201, draft.text
    clock.moment = LAST_DAY  # a draft made later cannot be committed earlier either
    refused = f.commit(client, database, board, draft.json()["id"])
    assert refused.status_code == 422 and refused.json()["code"] == "period-not-ended"
    assert client.get(f"/api/v1/distributions/{draft.json()['id']}", headers=board).json()["status"] == "draft"
    clock.moment = f.AFTER
    assert f.commit(client, database, board, draft.json()["id"]).status_code == 200


def test_no_booking_in_the_future_or_in_a_closed_period(client: TestClient, database: Database, clock: Clock) -> None:
    board, _people, permit_id = f.cooperative(client, database)
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    future = {"id": "pay-future", "received_on": tomorrow, "amount_cents": 5_000, "kind": "fee"}
    r = client.post(f"/api/v1/permits/{permit_id}/payments", json=future, headers=board)
    assert r.status_code == 422 and r.json()["code"] == "date-in-future" and r.json()["field"] == "received_on"
    assert r.json()["open_until"] == utcnow().date().isoformat()
    f.money(client, board, permit_id, income=100_000, expense=10_000)
    paid = {"id": "pay-100000", "received_on": f.BOOKED, "amount_cents": 100_000, "kind": "fee"}
    clock.moment = f.AFTER
    d = client.post("/api/v1/distributions", json=f.PERIOD, headers=board).json()
    assert f.commit(client, database, board, d["id"]).status_code == 200
    books, events = f.balances(client, board), _events(database)
    late = [
        (f"/api/v1/permits/{permit_id}/payments", {"id": "pay-late", "received_on": f"{f.YEAR}-12-31", "kind": "fee"}),
        ("/api/v1/expenses", {"id": "exp-late", "paid_on": f"{f.YEAR}-07-01", "description": "late invoice"}),
        (
            "/api/v1/solidarity/grants",
            {"id": "g-late", "paid_on": f"{f.YEAR}-12-01", "recipient": "Stichting Hart", "purpose": "education"},
        ),
    ]
    for url, body in late:
        r = client.post(url, json={**body, "amount_cents": 1_000}, headers=board)
        assert r.status_code == 409, (url, r.text)
        problem = r.json()
        assert problem["code"] == "period-closed" and problem["open_from"] == f"{f.NEXT}-01-01", problem
        assert f"open from {f.NEXT}-01-01" in problem["detail"]
    assert f.balances(client, board) == books and _events(database) == events  # refused: nothing written
    again = client.post(f"/api/v1/permits/{permit_id}/payments", json=paid, headers=board)
    assert again.status_code == 200 and again.json()["id"] == "payment:pay-100000"  # a retry gives the original
    other = client.post(f"/api/v1/permits/{permit_id}/payments", json={**paid, "amount_cents": 1}, headers=board)
    assert other.status_code == 409 and other.json()["code"] == "entry-differs"
    new_year = {"id": "pay-next", "received_on": f"{f.NEXT}-01-02", "amount_cents": 2_000, "kind": "fee"}
    assert client.post(f"/api/v1/permits/{permit_id}/payments", json=new_year, headers=board).status_code == 201
