"""Proposals and votes: one member one vote, changeable in the window, tallied after it,
adopted from the close; proxies vote only when their appointment says so."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from coop.db import Database
from coop.openapi import Problem
from coop.types import utcnow
from ledger import log
from tests import factories as f
from tests.conftest import Clock

WINDOW = timedelta(hours=1)
"""Voting windows of tests that close: a proposal's terms never change (the database refuses
it), so such a test opens a window and moves the application's clock past its end (a window
of seconds in real time fails when a busy machine takes that long to open it)."""


def _short(client: TestClient, board: dict[str, str], **overrides: object) -> dict:
    return f.propose(client, board, closes_at=(utcnow() + WINDOW).isoformat(), **overrides)


def _end_window(proposal: dict, clock: Clock) -> None:
    clock.moment = datetime.fromisoformat(proposal["closes_at"]) + timedelta(seconds=1)


def test_adopted_policy_is_in_force_from_the_close(client: TestClient, database: Database, clock: Clock) -> None:
    board = f.founded(client, database)
    a, b, c = (f.member(client, board) for _ in range(3))
    p = _short(client, board)
    assert p["status"] == "open" and p["tally"] is None
    assert f.vote(client, a, p["id"], "yes").status_code == 201
    assert f.vote(client, b, p["id"], "yes").status_code == 201
    assert f.vote(client, c, p["id"], "no").status_code == 201
    assert client.post(f"/api/v1/governance/proposals/{p['id']}/close", headers=board).json()["code"] == "voting-open"
    _end_window(p, clock)
    before_close = clock()
    clock.moment = before_close + timedelta(seconds=1)
    closed = client.post(f"/api/v1/governance/proposals/{p['id']}/close", headers=board).json()
    assert closed["status"] == "adopted" and closed["adopted_version"] == 2
    assert closed["tally"] == {"electorate": 3, "yes": 2, "no": 1, "abstain": 0, "turnout_pct": 100}
    again = client.post(f"/api/v1/governance/proposals/{p['id']}/close", headers=board).json()
    assert again["closed_at"] == closed["closed_at"]
    assert client.get("/api/v1/benefit-policy").json()["benefit_policy"]["solidarity_pct"] == 40
    old = client.get("/api/v1/benefit-policy", params={"at": before_close.isoformat()}).json()
    assert old["version"] == 1
    seen = client.get("/api/v1/governance/proposals", headers=a.headers).json()
    assert seen[0]["tally"]["yes"] == 2 and seen[0]["my_vote"] == "yes"
    with database.unit_of_work(write=False) as s:
        types = [e.type for e in log.events_after(s, 0, 1000)]
    assert types.count("vote.cast") == 3 and types[-2:] == ["benefit-policy.adopted", "proposal.closed"]


def test_no_quorum_no_change(client: TestClient, database: Database, clock: Clock) -> None:
    board = f.founded(client, database)
    a = f.member(client, board)
    f.member(client, board)
    f.member(client, board)
    p = _short(client, board, quorum_pct=50)
    f.vote(client, a, p["id"], "yes")
    _end_window(p, clock)
    closed = client.post(f"/api/v1/governance/proposals/{p['id']}/close", headers=board).json()
    assert closed["status"] == "rejected" and closed["adopted_version"] is None
    assert client.get("/api/v1/benefit-policy").json()["version"] == 1


def test_one_vote_changeable_in_the_window(client: TestClient, database: Database, clock: Clock) -> None:
    board = f.founded(client, database)
    a = f.member(client, board)
    p = _short(client, board)
    assert f.vote(client, a, p["id"], "yes").status_code == 201
    assert f.vote(client, a, p["id"], "yes").status_code == 200  # a retry
    twice = f.vote(client, a, p["id"], "no")
    assert twice.status_code == 409 and twice.json()["code"] == "already-voted"
    assert f.vote(client, a, p["id"], "no", method="put").json()["vote"] == "no"
    _end_window(p, clock)
    late = f.vote(client, a, p["id"], "yes", method="put")
    assert late.status_code == 409 and late.json()["code"] == "voting-closed"


def test_who_may_vote(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    principal, relative, carer = (f.member(client, board) for _ in range(3))
    p = f.propose(client, board)
    newcomer = f.member(client, board)  # admitted after voting opened
    assert f.vote(client, newcomer, p["id"], "yes").status_code == 403
    f.appointed(client, principal, relative, purposes=["research"])
    r = f.vote(client, relative, p["id"], "yes", on_behalf_of=principal.id)
    assert r.status_code == 403 and r.json()["code"] == "not-a-voter"
    f.appointed(client, carer, relative, voting=True, purposes=["education"])
    r = f.vote(client, relative, p["id"], "abstain", on_behalf_of=carer.id)
    assert r.status_code == 201 and r.json()["member_id"] == carer.id and r.json()["proxy_member_id"] == relative.id
    assert (
        client.post(f"/api/v1/governance/proposals/{p['id']}/votes", json={"vote": "yes"}, headers=board).status_code
        == 403
    )
    assert f.vote(client, principal, 999_999, "yes").status_code == 404


def test_bad_proposals(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    m = f.member(client, board)
    now = utcnow()
    bad_body = f.try_proposal(client, board, body={**f.NEW_POLICY, "members_pct": 49})
    assert bad_body.status_code == 422 and bad_body.json()["errors"][0]["loc"] == ["body", "members_pct"]
    Problem.model_validate(bad_body.json())  # loc, msg and type, as every 422 lists its errors
    unknown = f.try_proposal(client, board, body={**f.NEW_POLICY, "members_pct": "many"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["type"] == "int_parsing"
    Problem.model_validate(unknown.json())
    assert f.try_proposal(client, board, kind="constitution").status_code == 422
    assert f.try_proposal(client, board, closes_at=(now - timedelta(hours=1)).isoformat()).status_code == 422
    assert f.try_proposal(client, board, majority_pct=20).status_code == 422
    assert f.try_proposal(client, m.headers).status_code == 403
    mandate = f.try_proposal(
        client,
        board,
        kind="mandate",
        body={"rules": [{"purpose": "statistics", "user_type": "commercial", "decision": "allow"}]},
    )
    assert mandate.status_code == 422 and mandate.json()["errors"][0]["loc"] == ["body", "rules", 0, "decision"]
