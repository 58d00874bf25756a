"""Proxies: appointing, acting within scope, refusing cycles and deep chains, revoking."""

from __future__ import annotations

import itertools

from fastapi.testclient import TestClient

from coop.db import Database
from coop.proxies.service import chain_problem
from coop.vocabulary.terms import Purpose, mask
from ledger import log
from tests import factories as f


def _appoint(client: TestClient, principal: f.MemberHandle, proxy_id: int, **body: object):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/members/{principal.id}/proxies", json={"proxy_member_id": proxy_id, **body}, headers=principal.headers
    )


def _choices(client: TestClient, who: f.MemberHandle, member_id: int):  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/members/{member_id}/choices", headers=who.headers)


def _pref(body: dict, purpose: str, user_type: str) -> str:
    return next(p["decision"] for p in body["preferences"] if (p["purpose"], p["user_type"]) == (purpose, user_type))


def test_appointing_delegates_the_purposes(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    mother, daughter = f.member(client, board), f.member(client, board)
    client.patch(
        f"/api/v1/members/{mother.id}/choices",
        json={"preferences": [{"purpose": "research", "user_type": "commercial", "decision": "deny"}]},
        headers=mother.headers,
    )
    r = _appoint(client, mother, daughter.id, purposes=["research", "innovation"])
    assert r.status_code == 201, r.text
    assert r.json()["purposes"] == ["research", "innovation"] and r.json()["waiting"] and not r.json()["active"]
    accepted = f.accept_proxy(client, daughter, r.json()["id"])
    assert accepted["active"] and not accepted["waiting"] and accepted["accepted_at"] is not None
    body = _choices(client, mother, mother.id).json()
    assert _pref(body, "research", "academic") == "proxy"
    assert _pref(body, "research", "commercial") == "deny"  # her own choice stands
    assert _pref(body, "ai-training", "academic") == "mandate"  # outside the scope
    with database.unit_of_work(write=False) as s:
        types = [e.type for e in log.events_after(s, 0, 1000) if e.subject == f"member:{mother.id}"]
    assert types[-3:] == ["proxy.appointed", "choices.changed", "proxy.accepted"]


def test_the_proxy_acts_within_scope_and_is_recorded(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    principal, proxy = f.member(client, board), f.member(client, board)
    asked = f.ask_proxy(client, principal, proxy, purposes=["research"])
    assert _choices(client, proxy, principal.id).status_code == 404  # not before they accept
    inside = {"preferences": [{"purpose": "research", "user_type": "academic", "decision": "allow"}]}
    r = client.patch(f"/api/v1/members/{principal.id}/choices", json=inside, headers=proxy.headers)
    assert r.status_code in (403, 404)
    f.accept_proxy(client, proxy, asked["id"])
    assert _choices(client, proxy, principal.id).status_code == 200
    r = client.patch(f"/api/v1/members/{principal.id}/choices", json=inside, headers=proxy.headers)
    assert r.status_code == 200 and r.json()["acting_proxy_id"] == proxy.id
    outside = {"preferences": [{"purpose": "ai-training", "user_type": "academic", "decision": "allow"}]}
    r = client.patch(f"/api/v1/members/{principal.id}/choices", json=outside, headers=proxy.headers)
    assert r.status_code == 403 and r.json()["code"] == "outside-proxy-scope"
    r = client.patch(f"/api/v1/members/{principal.id}/choices", json={"opt_out": True}, headers=proxy.headers)
    assert r.status_code == 403  # member-wide settings need a proxy for all purposes
    assert client.get(f"/api/v1/members/{principal.id}", headers=proxy.headers).status_code == 404  # no profile


def test_a_full_proxy_may_opt_out_for_the_member(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    principal, proxy = f.member(client, board), f.member(client, board)
    f.appointed(client, principal, proxy)
    r = client.patch(f"/api/v1/members/{principal.id}/choices", json={"opt_out": True}, headers=proxy.headers)
    assert r.status_code == 200 and r.json()["opt_out"] is True


def test_bad_appointments(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    a, b, gone = f.member(client, board), f.member(client, board), f.member(client, board)
    client.post(f"/api/v1/members/{gone.id}/leave", headers=gone.headers)
    assert _appoint(client, a, a.id).json()["code"] == "proxy-self"
    assert _appoint(client, a, gone.id).json()["code"] == "proxy-not-member"
    assert _appoint(client, a, 999_999).json()["code"] == "proxy-not-member"
    assert _appoint(client, a, b.id, valid_until="2020-01-01T00:00:00+00:00").status_code == 422
    assert _appoint(client, a, b.id, purposes=["gossip"]).status_code == 422
    assert (
        client.post(f"/api/v1/members/{b.id}/proxies", json={"proxy_member_id": a.id}, headers=a.headers).status_code
        == 404
    )
    assert _appoint(client, a, b.id, purposes=["research"]).status_code == 201
    r = _appoint(client, a, b.id, purposes=["research", "education"])
    assert r.status_code == 409 and r.json()["code"] == "proxy-overlap"


def test_cycles_are_refused(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    a, b, c = (f.member(client, board) for _ in range(3))
    assert _appoint(client, a, b.id, purposes=["research"]).status_code == 201
    assert _appoint(client, b, c.id, purposes=["research"]).status_code == 201
    r = _appoint(client, c, a.id, purposes=["research"])
    assert r.status_code == 409 and r.json()["code"] == "proxy-cycle"
    assert _appoint(client, c, a.id, purposes=["education"]).status_code == 201  # another purpose: no cycle


def test_chains_deeper_than_the_limit_are_refused(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    limit = database.settings.choices.proxy_max_depth
    people = [f.member(client, board) for _ in range(limit + 2)]
    for principal, proxy in itertools.pairwise(people[1:]):
        assert _appoint(client, principal, proxy.id).status_code == 201
    r = _appoint(client, people[0], people[1].id)
    assert r.status_code == 409 and r.json()["code"] == "proxy-chain-too-deep"


def test_chain_problem_is_pure() -> None:
    research = mask([Purpose.research])
    edges = {2: [(3, research)], 3: [(1, research)]}
    assert chain_problem(edges, 1, 2, research, 5) is not None  # 1 -> 2 -> 3 -> 1
    assert chain_problem(edges, 1, 2, mask([Purpose.education]), 5) is None
    assert chain_problem({2: [(3, research)]}, 1, 2, research, 1) is not None  # 1 -> 2 -> 3 is two links


def test_revoking_ends_the_proxy_power(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    principal, proxy = f.member(client, board), f.member(client, board)
    appointment = f.appointed(client, principal, proxy)
    url = f"/api/v1/members/{principal.id}/proxies/{appointment['id']}/revoke"
    assert client.post(url, headers=proxy.headers).status_code == 404  # only the principal revokes
    first = client.post(url, headers=principal.headers)
    again = client.post(url, headers=principal.headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["revoked_at"] == again.json()["revoked_at"] and not first.json()["active"]
    assert _choices(client, proxy, principal.id).status_code == 404
    listing = client.get(f"/api/v1/members/{proxy.id}/proxies", headers=proxy.headers).json()
    assert [a["id"] for a in listing] == [appointment["id"]]
    with database.unit_of_work(write=False) as s:
        assert [e.type for e in log.events_after(s, 0, 1000)].count("proxy.revoked") == 1
