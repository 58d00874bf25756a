"""The cooperative's statutes, proposals and votes."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from coop.auth.policy import CLI_ACTOR
from coop.db import Database
from coop.governance import service as governance
from coop.types import utcnow
from tests.factories.members import MemberHandle, board, member

STATUTES = Path(__file__).resolve().parents[2] / "coop" / "statutes.example.toml"
"""The example statutes: benefit policy 20/30/50 with a minimum payout of 500 cents."""
NEW_POLICY = {"reserve_pct": 10, "solidarity_pct": 40, "members_pct": 50, "minimum_payout_cents": 1000}


def statutes(database: Database, now: datetime | None = None) -> None:
    """The example statutes in force from ``now`` (default: this moment)."""
    with database.unit_of_work() as s:
        governance.init_statutes(s, CLI_ACTOR, STATUTES, now=now or utcnow())


def founded(client: TestClient, database: Database) -> dict[str, str]:
    """A cooperative with its statutes in force; the board's headers."""
    statutes(database)
    return board(client, database)


def with_members(client: TestClient, database: Database, members: int) -> tuple[dict[str, str], list[MemberHandle]]:
    """A cooperative with its statutes in force and ``members`` members: the board's headers, the members."""
    headers = founded(client, database)
    return headers, [member(client, headers) for _ in range(members)]


def try_proposal(client: TestClient, headers: dict[str, str], **overrides: object) -> httpx.Response:
    """Open a proposal (a revised benefit policy, open for an hour) and return the answer."""
    now = utcnow()
    body = {
        "title": "t",
        "kind": "benefit-policy",
        "body": NEW_POLICY,
        "opens_at": now.isoformat(),
        "closes_at": (now + timedelta(hours=1)).isoformat(),
        "quorum_pct": 10,
        "majority_pct": 50,
        **overrides,
    }
    return client.post("/api/v1/governance/proposals", json=body, headers=headers)


def propose(client: TestClient, board_headers: dict[str, str], **overrides: object) -> dict:
    """An open proposal (quorum 50% unless overridden)."""
    r = try_proposal(client, board_headers, **{"quorum_pct": 50, **overrides})
    assert r.status_code == 201, r.text
    return r.json()


def vote(
    client: TestClient, who: MemberHandle, proposal_id: int, choice: str, method: str = "post", **extra: object
) -> httpx.Response:
    url = f"/api/v1/governance/proposals/{proposal_id}/votes" + ("/mine" if method == "put" else "")
    return client.request(method, url, json={"vote": choice, **extra}, headers=who.headers)
