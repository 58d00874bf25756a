"""A proxy sees the members they act for and may step down: the appointment ends now, the
member is told (the proxy, who did it, is not), the member's choices fall back to the
mandate, and the ledger of record names the proxy as the actor. Nobody else can make a
proxy step down."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from coop.db import Database
from coop.mail.models import OutboxMessage
from tests import factories as f


def _appoint(client: TestClient, principal: f.MemberHandle, proxy: f.MemberHandle) -> int:
    return int(f.appointed(client, principal, proxy, purposes=["research"], voting=True)["id"])


def _ended_messages(database: Database) -> list[tuple[int | None, str]]:
    with database.unit_of_work(write=False) as s:
        rows = s.execute(
            select(OutboxMessage.member_id, OutboxMessage.context).where(  # type: ignore[call-overload]
                OutboxMessage.kind.in_(["proxy-ended", "acting-for-ended"])  # type: ignore[attr-defined]
            )
        ).all()
    return [(m, c) for m, c in rows]


def test_a_proxy_steps_down_and_the_member_is_told(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    anna, bram, cor = f.member(client, board), f.member(client, board), f.member(client, board)
    appointment = _appoint(client, anna, bram)
    url = f"/api/v1/members/{bram.id}/acting-for/{appointment}/step-down"
    assert client.post(url, headers=cor.headers).status_code == 404, "only the proxy"
    assert (
        client.post(f"/api/v1/members/{cor.id}/acting-for/{appointment}/step-down", headers=cor.headers).status_code
        == 404
    )
    assert client.post(url, headers=board).status_code == 404

    done = client.post(url, headers=bram.headers)
    assert done.status_code == 200 and done.json()["active"] is False
    assert [m for m, _ in _ended_messages(database)] == [anna.id], "the member is told; the proxy did it"
    assert '"reason": "stepped-down"' in _ended_messages(database)[0][1]
    again = client.post(url, headers=bram.headers)
    assert again.status_code == 200 and again.json()["revoked_at"] == done.json()["revoked_at"]
    assert len(_ended_messages(database)) == 1
    events = client.get("/api/v1/ledger/events", params={"limit": 1000}, headers=board).json()["items"]
    [revoked] = [e for e in events if e["type"] == "proxy.revoked"]
    assert revoked["subject"] == f"member:{anna.id}" and revoked["actor"] != "cli"
    held = client.get(f"/api/v1/members/{bram.id}/proxies", headers=bram.headers).json()
    assert [p["active"] for p in held] == [False]


def test_a_proxy_steps_down_in_the_portal(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    anna, bram = f.member(client, board), f.member(client, board)
    _appoint(client, anna, bram)
    f.portal_login(client, bram.email)
    page = client.get("/me/proxies")
    assert "Leden voor wie u optreedt" in page.text and f"{anna.number}, voor:" in page.text
    action = 'action="/me/acting-for/'
    assert action in page.text
    appointment = page.text.split(action)[1].split("/")[0]
    done = client.post(
        f"/me/acting-for/{appointment}/step-down", data={"csrf": f.csrf(page.text)}, follow_redirects=False
    )
    assert done.headers["location"] == "/me/proxies?saved=1"
    assert "Leden voor wie u optreedt" not in client.get("/me/proxies").text
