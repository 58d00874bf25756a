"""A cooperative with a permit and its money, and the periods it is distributed in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

import httpx
from fastapi.testclient import TestClient

from coop.db import Database
from coop.types import utcnow
from tests.factories.members import MemberHandle, board, second_board
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


def commit(
    client: TestClient, database: Database, board_headers: dict[str, str], distribution_id: int
) -> httpx.Response:
    """Commit a draft with four eyes: the board user of ``board_headers`` asks, a second board
    user approves. The refusal of the request, if it was refused, else the approval's response."""
    asked = client.post(f"/api/v1/distributions/{distribution_id}/commit-requests", headers=board_headers)
    if asked.status_code != 201:
        return asked
    approver = second_board(client, database)
    return client.post(f"/api/v1/approvals/{asked.json()['id']}/approve", headers=approver)


def publish(
    client: TestClient, database: Database, board_headers: dict[str, str], year: int, languages: list[str]
) -> httpx.Response:
    """Publish a year's report with four eyes, as :func:`commit` does."""
    asked = client.post(
        f"/api/v1/reports/annual/{year}/publish-requests", json={"languages": languages}, headers=board_headers
    )
    if asked.status_code != 201:
        return asked
    approver = second_board(client, database)
    return client.post(f"/api/v1/approvals/{asked.json()['id']}/approve", headers=approver)


def four_eyes_pages(client: TestClient, database: Database, board_headers: dict[str, str]) -> list[str]:
    """The pages of four eyes as the first board user sees them when a second board user has
    asked them to approve: a draft of PERIOD waiting to be committed (its page, the list, the
    confirmation) and the report of YEAR waiting to be published (the reports page, the
    confirmation). Call it once PERIOD has ended (the clock at AFTER) and its money is booked."""
    draft = client.post("/api/v1/distributions", json=PERIOD, headers=board_headers)
    assert draft.status_code == 201, draft.text
    treasurer = second_board(client, database)
    commit = client.post(f"/api/v1/distributions/{draft.json()['id']}/commit-requests", headers=treasurer)
    assert commit.status_code == 201, commit.text
    client.get("/api/v1/ledger/tree-head")
    publish = client.post(f"/api/v1/reports/annual/{YEAR}/publish-requests", headers=treasurer)
    assert publish.status_code == 201, publish.text
    return [
        "/board/distributions",
        f"/board/distributions/{draft.json()['id']}",
        f"/board/approvals/{commit.json()['id']}",
        "/board/reports",
        f"/board/approvals/{publish.json()['id']}",
    ]


def balances(client: TestClient, board_headers: dict[str, str]) -> dict[str, int]:
    body = client.get("/api/v1/ledger/balances", headers=board_headers).json()
    assert body["debits_equal_credits"]
    return {a["account"]: a["balance_cents"] for a in body["accounts"]}
