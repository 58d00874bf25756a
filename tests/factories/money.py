"""A cooperative with a permit and its money, and the periods it is distributed in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from fastapi.testclient import TestClient

from coop.db import Database
from coop.types import utcnow
from tests.factories.members import MemberHandle, board
from tests.factories.permits import PERMITS, registered

YEAR = utcnow().year  # the manifests made now fall within PERIOD
NEXT = YEAR + 1
PERIOD = {"period_start": f"{YEAR}-01-01", "period_end": f"{YEAR}-12-31"}
BOOKED = utcnow().date().isoformat()  # money is booked on a day that has come, within PERIOD
AFTER = datetime(NEXT, 1, 15, 12, tzinfo=UTC)  # PERIOD has ended: it can be distributed


class Cooperative(NamedTuple):
    board: dict[str, str]
    people: list[MemberHandle]
    permit_id: int


def cooperative(client: TestClient, database: Database, members: int = 3) -> Cooperative:
    """Statutes, the board, ``members`` members, and an academic research permit approved
    now with its manifest (every member in it), built below HTTP."""
    _hdab, permit, people = registered(client, database, members, manifest=True)
    return Cooperative(board(client, database), people, permit["id"])


def money(client: TestClient, board_headers: dict[str, str], permit_id: int, income: int, expense: int = 0) -> None:
    """A fee of ``income`` cents for the permit and an expense, both booked today."""
    r = client.post(
        f"{PERMITS}/{permit_id}/payments",
        json={"id": f"pay-{income}", "received_on": BOOKED, "amount_cents": income, "kind": "fee"},
        headers=board_headers,
    )
    assert r.status_code == 201, r.text
    if expense:
        body = {"id": f"exp-{expense}", "paid_on": BOOKED, "amount_cents": expense, "description": "hosting"}
        r = client.post("/api/v1/expenses", json=body, headers=board_headers)
        assert r.status_code == 201, r.text


def balances(client: TestClient, board_headers: dict[str, str]) -> dict[str, int]:
    body = client.get("/api/v1/ledger/balances", headers=board_headers).json()
    assert body["debits_equal_credits"]
    return {a["account"]: a["balance_cents"] for a in body["accounts"]}
