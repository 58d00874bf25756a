"""What a proxy reads of their principal: only the purposes their appointment covers, and
only from the time it began, in every read a proxy can make (choices, history, FHIR
consent, effective decisions)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f


def _pref(purpose: str, user_type: str, decision: str) -> dict:
    return {"preferences": [{"purpose": purpose, "user_type": user_type, "decision": decision}]}


def _scene(client: TestClient, database: Database) -> tuple[f.MemberHandle, f.MemberHandle, dict]:
    """A principal with a past of their own, then a proxy for research only, then changes
    inside and outside the proxy's scope."""
    board = f.founded(client, database)
    principal, proxy = f.member(client, board), f.member(client, board)
    url = f"/api/v1/members/{principal.id}/choices"
    client.patch(url, json=_pref("ai-training", "commercial", "deny"), headers=principal.headers)
    client.patch(url, json={"donate_dividend": True, "excluded_categories": ["genetic"]}, headers=principal.headers)
    appointment = f.appointed(client, principal, proxy, purposes=["research"])
    client.patch(url, json=_pref("education", "academic", "allow"), headers=principal.headers)  # outside the scope
    r = client.patch(url, json=_pref("research", "commercial", "deny"), headers=proxy.headers)  # inside
    assert r.status_code == 200, r.text
    client.patch(url, json=_pref("innovation", "public", "deny"), headers=principal.headers)  # outside again
    return principal, proxy, appointment


def test_a_proxy_reads_only_the_purposes_of_the_appointment(client: TestClient, database: Database) -> None:
    principal, proxy, _ = _scene(client, database)
    url = f"/api/v1/members/{principal.id}/choices"
    mine = client.get(url, headers=principal.headers).json()
    theirs = client.get(url, headers=proxy.headers).json()
    assert len(mine["preferences"]) == 24 and mine["donate_dividend"] is True
    assert {p["purpose"] for p in theirs["preferences"]} == {"research"}
    assert {(p["user_type"], p["decision"]) for p in theirs["preferences"]} == {
        ("public", "proxy"),
        ("academic", "proxy"),
        ("commercial", "deny"),
    }
    assert theirs["donate_dividend"] is None  # not about any purpose: not theirs to see
    assert theirs["excluded_categories"] == ["genetic"] and theirs["opt_out"] is False  # these decide research too
    assert theirs["version"] == mine["version"]  # the number a change names in If-Match
    assert (
        theirs["acting_proxy_id"] == proxy.id
    )  # what they see now is their change (the later one is not theirs to see)
    patch = client.patch(
        url,
        json=_pref("research", "public", "deny"),
        headers={**proxy.headers, "If-Match": mine and f'"{principal.id}.{mine["version"]}"'},
    )
    assert patch.status_code == 200 and {p["purpose"] for p in patch.json()["preferences"]} == {"research"}
    assert patch.json()["acting_proxy_id"] == proxy.id and patch.json()["donate_dividend"] is None


def test_a_proxy_reads_the_history_only_from_the_appointment_on(client: TestClient, database: Database) -> None:
    principal, proxy, appointment = _scene(client, database)
    url = f"/api/v1/members/{principal.id}/choices/history"
    mine = client.get(url, headers=principal.headers).json()
    theirs = client.get(url, headers=proxy.headers).json()
    assert [v["version"] for v in mine] == [1, 2, 3, 4, 5, 6, 7]
    began = datetime.fromisoformat(appointment["accepted_at"])  # what the proxy sees begins with their yes
    # before the appointment: nothing; changes outside the scope: joined to what the proxy could see
    assert [v["version"] for v in theirs] == [5, 7]  # 3 and 4 (delegation) and 5 look alike; 6 and 7 too
    assert datetime.fromisoformat(theirs[0]["valid_from"]) == began
    assert all(datetime.fromisoformat(v["valid_from"]) >= began for v in theirs)
    assert all({p["purpose"] for p in v["preferences"]} == {"research"} for v in theirs)
    assert [v["acting_proxy_id"] for v in theirs] == [None, proxy.id]  # who changed it: only when it was them
    assert all(v["donate_dividend"] is None for v in theirs)


def test_a_proxy_sees_a_consent_of_the_appointment_only(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    principal, proxy, other = f.member(client, board), f.member(client, board), f.member(client, board)
    for who, purposes in ((proxy, ["research"]), (other, ["education"])):
        f.appointed(client, principal, who, purposes=purposes)
    url = f"/api/v1/members/{principal.id}/choices/fhir"
    mine = client.get(url, headers=principal.headers).json()
    theirs = client.get(url, headers=proxy.headers).json()
    assert len(mine["grantee"]) == 2 and len(mine["provision"]) == 24
    assert [g["identifier"]["value"] for g in theirs["grantee"]] == [proxy.number]  # not the other proxy
    assert {p["purpose"][0]["code"] for p in theirs["provision"]} == {"research"}


def test_a_proxy_asks_about_decisions_only_within_the_appointment(client: TestClient, database: Database) -> None:
    principal, proxy, appointment = _scene(client, database)
    url = f"/api/v1/members/{principal.id}/effective"
    inside = client.get(url, params={"purpose": "research", "user_type": "commercial"}, headers=proxy.headers)
    assert inside.status_code == 200 and inside.json()["reason"] == "own-choice"
    outside = client.get(url, params={"purpose": "education", "user_type": "academic"}, headers=proxy.headers)
    assert outside.status_code == 403 and outside.json()["code"] == "outside-proxy-scope"
    before = (datetime.fromisoformat(appointment["valid_from"]) - timedelta(microseconds=1)).isoformat()
    earlier = client.get(
        url, params={"purpose": "research", "user_type": "academic", "at": before}, headers=proxy.headers
    )
    assert earlier.status_code == 403 and earlier.json()["code"] == "outside-proxy-scope"
    mine = client.get(
        url, params={"purpose": "education", "user_type": "academic", "at": before}, headers=principal.headers
    )
    assert mine.status_code == 200  # the member asks about anything, any time


def test_the_board_and_the_member_still_read_everything(client: TestClient, database: Database) -> None:
    principal, _, _ = _scene(client, database)
    board = f.login(client, f.BOARD_EMAIL)
    url = f"/api/v1/members/{principal.id}/choices/history"
    assert client.get(url, headers=board).json() == client.get(url, headers=principal.headers).json()
