"""GET /members/{id}/effective: the rules in order, with reasons, chains and time."""

from __future__ import annotations

from fastapi.testclient import TestClient

from coop.db import Database
from coop.types import utcnow
from tests import factories as f


def _effective(client: TestClient, who: f.MemberHandle, member_id: int, **params: object) -> dict:
    r = client.get(f"/api/v1/members/{member_id}/effective", params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_each_rule_in_order(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    m = f.member(client, board)
    q = {"purpose": "research", "user_type": "academic"}
    assert _effective(client, m, m.id, **q) | {"chain": None} == {
        "decision": "allow",
        "reason": "mandate",
        "chain": None,
        "deciding_reason": None,
        "mandate_version": 1,
        "mandate": {"decision": "allow", "conditions": None, "unmet": [], "sensitive_needs_explicit_allow": False},
    }
    assert _effective(client, m, m.id, purpose="advertising", user_type="commercial")["reason"] == "prohibited"
    assert _effective(client, m, m.id, purpose="statistics", user_type="commercial")["reason"] == "prohibited"
    commercial = _effective(client, m, m.id, purpose="research", user_type="commercial")
    assert commercial["decision"] == "conditional" and commercial["mandate"]["conditions"]["min_benefit_share_pct"] == 5
    sensitive = _effective(client, m, m.id, purpose="innovation", user_type="academic", categories="genetic")
    assert sensitive["decision"] == "deny" and sensitive["mandate"]["sensitive_needs_explicit_allow"]
    patch = {"preferences": [{"purpose": "research", "user_type": "academic", "decision": "deny"}]}
    client.patch(f"/api/v1/members/{m.id}/choices", json=patch, headers=m.headers)
    assert _effective(client, m, m.id, **q)["reason"] == "own-choice"
    client.patch(f"/api/v1/members/{m.id}/choices", json={"excluded_categories": ["claims"]}, headers=m.headers)
    assert _effective(client, m, m.id, **q, categories="ehr,claims")["reason"] == "category-excluded"
    client.patch(f"/api/v1/members/{m.id}/choices", json={"opt_out": True}, headers=m.headers)
    assert _effective(client, m, m.id, **q)["reason"] == "opt-out"
    client.post(f"/api/v1/members/{m.id}/leave", headers=m.headers)
    former = f.MemberHandle(m.id, m.number, m.email, f.login(client, m.email))  # leaving ended the login
    assert _effective(client, former, m.id, **q)["reason"] == "not-member"


def test_as_of_a_past_time_is_exact(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    m = f.member(client, board)
    before = utcnow()
    client.patch(f"/api/v1/members/{m.id}/choices", json={"opt_out": True}, headers=m.headers)
    q = {"purpose": "research", "user_type": "academic"}
    assert _effective(client, m, m.id, **q, at=before.isoformat())["decision"] == "allow"
    assert _effective(client, m, m.id, **q)["reason"] == "opt-out"


def test_the_proxy_decides_along_the_chain(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    a, b, c = (f.member(client, board) for _ in range(3))
    f.appointed(client, a, b, purposes=["research"])
    f.appointed(client, b, c)
    patch = {"preferences": [{"purpose": "research", "user_type": "academic", "decision": "deny"}]}
    client.patch(f"/api/v1/members/{c.id}/choices", json=patch, headers=c.headers)
    result = _effective(client, a, a.id, purpose="research", user_type="academic")
    assert result["decision"] == "deny" and result["reason"] == "proxy"
    assert result["chain"] == [a.id, b.id, c.id] and result["deciding_reason"] == "own-choice"


def test_bad_queries_and_strangers(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    a, b = f.member(client, board), f.member(client, board)
    url = f"/api/v1/members/{a.id}/effective"
    for params in (
        {"purpose": "gossip", "user_type": "public"},
        {"purpose": "research", "user_type": "aliens"},
        {"purpose": "research", "user_type": "public", "categories": "horoscopes"},
        {"purpose": "research", "user_type": "public", "at": "yesterday"},
        {"user_type": "public"},
    ):
        r = client.get(url, params=params, headers=a.headers)
        assert r.status_code == 422, params
    assert client.get(url, params={"purpose": "research", "user_type": "public"}, headers=b.headers).status_code == 404
