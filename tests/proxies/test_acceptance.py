"""An appointment is in force only once the proxy accepts it; the proxy may decline, and
until they answer the mandate decides what the member left to them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from coop.db import Database
from ledger import log
from tests import factories as f


def _answer(client: TestClient, proxy: f.MemberHandle, appointment_id: int, answer: str):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/members/{proxy.id}/acting-for/{appointment_id}/{answer}", headers=proxy.headers)


def _decision(client: TestClient, member: f.MemberHandle) -> dict:
    r = client.get(
        f"/api/v1/members/{member.id}/effective",
        params={"purpose": "research", "user_type": "academic"},
        headers=member.headers,
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_the_mandate_decides_until_the_proxy_accepts(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    principal, proxy = f.member(client, board), f.member(client, board)
    client.patch(  # the proxy's own choice, which decides for the principal once in force
        f"/api/v1/members/{proxy.id}/choices",
        json={"preferences": [{"purpose": "research", "user_type": "academic", "decision": "deny"}]},
        headers=proxy.headers,
    )
    asked = f.ask_proxy(client, principal, proxy, purposes=["research"])
    assert _decision(client, principal)["reason"] == "mandate"
    f.accept_proxy(client, proxy, asked["id"])
    after = _decision(client, principal)
    assert (after["reason"], after["decision"]) == ("proxy", "deny")


def test_only_the_asked_proxy_answers_and_only_once(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    principal, proxy, other = f.member(client, board), f.member(client, board), f.member(client, board)
    asked = f.ask_proxy(client, principal, proxy, voting=True)
    assert _answer(client, other, asked["id"], "accept").status_code == 404
    r = client.post(f"/api/v1/members/{proxy.id}/acting-for/{asked['id']}/accept", headers=other.headers)
    assert r.status_code == 404
    assert _answer(client, principal, asked["id"], "accept").status_code == 404  # not their own appointment
    first, again = _answer(client, proxy, asked["id"], "accept"), _answer(client, proxy, asked["id"], "accept")
    assert first.status_code == again.status_code == 200 and first.json()["accepted_at"] == again.json()["accepted_at"]
    late = _answer(client, proxy, asked["id"], "decline")
    assert late.status_code == 409 and late.json()["code"] == "proxy-answered"
    with database.unit_of_work(write=False) as s:
        accepted = [e for e in log.events_after(s, 0, 1000) if e.type == "proxy.accepted"]
    assert [(e.actor, e.subject) for e in accepted] == [(f"user:{_user(database, proxy)}", f"member:{principal.id}")]


def _user(database: Database, member: f.MemberHandle) -> int:
    with database.unit_of_work(write=False) as s:
        return int(s.execute(text(f"SELECT id FROM user_account WHERE member_id = {member.id}")).scalar_one())


def test_declining_ends_the_appointment_and_tells_the_member(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    principal, proxy = f.member(client, board), f.member(client, board)
    asked = f.ask_proxy(client, principal, proxy)
    r = _answer(client, proxy, asked["id"], "decline")
    assert r.status_code == 200 and r.json()["revoked_at"] is not None and not r.json()["active"]
    assert _answer(client, proxy, asked["id"], "decline").json()["revoked_at"] == r.json()["revoked_at"]
    refused = _answer(client, proxy, asked["id"], "accept")
    assert refused.status_code == 409 and refused.json()["code"] == "proxy-ended"
    f.ask_proxy(client, principal, proxy)  # asking again is possible: nothing is in force
    with database.unit_of_work(write=False) as s:
        types = [e.type for e in log.events_after(s, 0, 1000) if e.subject == f"member:{principal.id}"]
        kinds = (
            s.execute(text(f"SELECT kind FROM mail_outbox WHERE member_id = {principal.id} ORDER BY id"))
            .scalars()
            .all()
        )
    assert "proxy.declined" in types and "proxy.revoked" not in types
    assert "proxy-ended" in kinds


def test_a_withdrawn_question_cannot_be_accepted(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    principal, proxy = f.member(client, board), f.member(client, board)
    asked = f.ask_proxy(client, principal, proxy)
    client.post(f"/api/v1/members/{principal.id}/proxies/{asked['id']}/revoke", headers=principal.headers)
    r = _answer(client, proxy, asked["id"], "accept")
    assert r.status_code == 409 and r.json()["code"] == "proxy-ended"
