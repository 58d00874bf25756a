"""Distributions end to end: draft, commit all or nothing, dividends with their derivation,
donations, carry-forward below the minimum payout, and refusals."""

from __future__ import annotations

from fastapi.testclient import TestClient

from coop.db import Database
from coop.money import service as money
from ledger import books
from tests import factories as f
from tests.conftest import Clock


def test_draft_commit_and_dividends(client: TestClient, database: Database, clock: Clock) -> None:
    board, people, permit_id = f.cooperative(client, database)
    client.patch(f"/api/v1/members/{people[2].id}/choices", json={"donate_dividend": True}, headers=people[2].headers)
    f.money(client, board, permit_id, income=100_000, expense=10_000)
    clock.moment = f.AFTER
    d = client.post("/api/v1/distributions", json=f.PERIOD, headers=board)
    assert d.status_code == 201, d.text
    draft = d.json()
    assert draft["status"] == "draft" and draft["net_income_cents"] == 90_000
    assert (draft["reserve_cents"], draft["solidarity_cents"], draft["members_pool_cents"]) == (18_000, 27_000, 45_000)
    (split,) = draft["permits"]
    assert split["rotation_start"] in range(3)
    assert split == {
        "permit_id": permit_id,
        "revenue_cents": 100_000,
        "pool_cents": 45_000,
        "members": 3,
        "rotation_start": split["rotation_start"],
    }
    assert draft["donated_cents"] == 15_000
    assert f.balances(client, board)["assets:bank"] == 90_000  # a draft changes nothing in the books
    committed = f.commit(client, database, board, draft["id"])
    assert committed.status_code == 200 and committed.json()["distribution"]["status"] == "committed"
    books = f.balances(client, board)
    assert books["equity:reserve"] == 18_000 and books["equity:solidarity-fund"] == 27_000 + 15_000
    assert books[f"income:permit:{permit_id}:fee"] == 0 and books["expenses:operations"] == 0
    assert books["assets:bank"] == 90_000 - 2 * 15_000  # two members paid out, the donor's share stays with the fund
    mine = client.get(f"/api/v1/members/{people[0].id}/dividends", headers=people[0].headers).json()
    assert mine["distributions"][0]["total_cents"] == 15_000 and mine["paid_out_cents"] == 15_000
    assert mine["distributions"][0]["parts"] == [
        {
            "permit_id": permit_id,
            "permit_number": "NL-HDAB-2026-0042",
            "permit_pool_cents": 45_000,
            "permit_members": 3,
            "position": 0,
            "cents": 15_000,
        }
    ]
    assert mine["balance_cents"] == 0
    donor = client.get(f"/api/v1/members/{people[2].id}/dividends", headers=people[2].headers).json()
    assert donor["distributions"][0]["donated"] and donor["paid_out_cents"] == 0
    again = f.commit(client, database, board, draft["id"])
    assert again.status_code == 409 and again.json()["code"] == "committed-already"
    overlap = client.post(
        "/api/v1/distributions",
        json={"period_start": f"{f.YEAR}-06-01", "period_end": f"{f.NEXT}-01-10"},
        headers=board,
    )
    assert overlap.status_code == 409 and overlap.json()["code"] == "period-distributed"
    grant = client.post(
        "/api/v1/solidarity/grants",
        json={
            "id": "g-1",
            "paid_on": f"{f.NEXT}-01-15",
            "amount_cents": 20_000,
            "recipient": "Stichting Hart",
            "purpose": "patient education",
        },
        headers=board,
    )
    assert grant.status_code == 201  # the fund now holds money for society


def test_small_dividends_are_carried_forward(client: TestClient, database: Database, clock: Clock) -> None:
    board, people, permit_id = f.cooperative(client, database, members=3)
    f.money(client, board, permit_id, income=2_000)  # pool 1,000 -> 333/333/334 cents, below the 500 minimum
    clock.moment = f.AFTER
    d = client.post("/api/v1/distributions", json=f.PERIOD, headers=board).json()
    f.commit(client, database, board, d["id"])
    mine = client.get(f"/api/v1/members/{people[0].id}/dividends", headers=people[0].headers).json()
    assert mine["paid_out_cents"] == 0 and mine["balance_cents"] in (333, 334)
    start = d["permits"][0]["rotation_start"]
    for position, person in enumerate(people):  # the leftover cent goes to the place the rotation starts at
        theirs = client.get(f"/api/v1/members/{person.id}/dividends", headers=person.headers).json()
        (part,) = theirs["distributions"][0]["parts"]
        assert part["position"] == position
        assert part["cents"] == theirs["distributions"][0]["total_cents"] == (334 if position == start else 333)
    assert f.balances(client, board)["assets:bank"] == 2_000  # nothing paid out yet


def test_members_who_left_still_receive(client: TestClient, database: Database, clock: Clock) -> None:
    board, people, permit_id = f.cooperative(client, database, members=2)
    client.post(f"/api/v1/members/{people[1].id}/leave", headers=people[1].headers)
    f.money(client, board, permit_id, income=40_000)
    clock.moment = f.AFTER
    d = client.post("/api/v1/distributions", json=f.PERIOD, headers=board).json()
    f.commit(client, database, board, d["id"])
    gone = client.get(f"/api/v1/members/{people[1].id}/dividends", headers=f.login(client, people[1].email)).json()
    assert gone["paid_out_cents"] == 10_000


def test_refusals(client: TestClient, database: Database, clock: Clock) -> None:
    board, people, permit_id = f.cooperative(client, database, members=1)
    clock.moment = f.AFTER
    none = client.post("/api/v1/distributions", json=f.PERIOD, headers=board)
    assert none.status_code == 422 and none.json()["code"] == "no-net-income"
    backwards = client.post(
        "/api/v1/distributions",
        json={"period_start": f"{f.YEAR}-12-31", "period_end": f"{f.YEAR}-01-01"},
        headers=board,
    )
    assert backwards.status_code == 422
    f.money(client, board, permit_id, income=10_000)
    d = client.post("/api/v1/distributions", json=f.PERIOD, headers=board).json()
    f.money(client, board, permit_id, income=777)  # booked into the period after the draft
    stale = f.commit(client, database, board, d["id"])
    assert stale.status_code == 409 and stale.json()["code"] == "draft-stale"
    assert client.post("/api/v1/distributions", json=f.PERIOD, headers=people[0].headers).status_code == 403
    assert client.post("/api/v1/distributions/999/commit", headers=board).status_code == 404
    assert client.get(f"/api/v1/members/{people[0].id}/dividends", headers=board).status_code == 404


def test_members_postings_are_listed_in_account_order(client: TestClient, database: Database, clock: Clock) -> None:
    board, people, permit_id = f.cooperative(client, database, members=12)  # ids of one and two digits
    f.money(client, board, permit_id, income=240_000)
    clock.moment = f.AFTER
    d = client.post("/api/v1/distributions", json=f.PERIOD, headers=board).json()
    assert f.commit(client, database, board, d["id"]).status_code == 200
    with database.unit_of_work(write=False) as s:
        close = books.recorded(s, f"distribution:{d['id']}")
        payouts = books.recorded(s, f"distribution:{d['id']}:payouts")
    assert close is not None and payouts is not None
    owed = [p.account for p in close.postings if p.account.startswith("liabilities:members:")]
    paid = [p.account for p in payouts.postings if p.account.startswith("liabilities:members:")]
    assert {len(a.rsplit(":", 1)[1]) for a in owed} == {1, 2} and owed == sorted(owed) == paid
    assert sorted(owed) == sorted(money.member_payable(p.id) for p in people)
