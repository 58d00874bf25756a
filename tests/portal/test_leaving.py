"""The portal for a member who left: their own pages stay readable and say they left;
changes, appointments and votes are refused in their language, as the API refuses them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f


def test_a_former_member_reads_their_pages_and_changes_nothing(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    me, other = f.member(client, board), f.member(client, board)
    f.propose(client, board, title="Nieuw mandaat")
    assert client.post(f"/api/v1/members/{me.id}/leave", headers=me.headers).status_code == 200
    f.portal_login(client, me.email)
    overview = client.get("/me")
    assert overview.status_code == 200 and "U heeft de coöperatie verlaten op" in overview.text
    for page in ("/me/choices", "/me/proxies", "/me/history", "/me/data-use", "/me/dividends", "/me/password"):
        assert client.get(page).status_code == 200, page
    votes = client.get("/me/votes")
    assert "Daarom stemt u niet meer mee." in votes.text and "Nieuw mandaat" not in votes.text
    csrf = f.csrf(overview.text)
    for url, form in (
        ("/me/opt-out", {"choice": "out"}),
        ("/me/proxies", {"proxy": other.number}),
        ("/me/choices", {"pref:research:commercial": "deny"}),
    ):
        refused = client.post(url, data={"csrf": csrf, **form})
        assert "U bent geen lid meer." in refused.text, url
    mine = f.login(client, me.email)
    assert client.get(f"/api/v1/members/{me.id}/proxies", headers=mine).json() == []
    assert client.get(f"/api/v1/members/{me.id}/choices", headers=mine).json()["opt_out"] is False
    client.cookies.clear()
    f.portal_login(client, other.email)
    assert "Nieuw mandaat" in client.get("/me/votes").text  # a member still sees it


def test_a_principal_sees_the_cooperative_decide_once_their_proxy_left(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    principal, proxy = f.member(client, board), f.member(client, board)
    f.appointed(client, principal, proxy, purposes=["research"])
    f.portal_login(client, principal.email)
    assert client.get("/me").text.count("Uw gevolmachtigde beslist voor u.") == 3  # research, three kinds of user
    assert client.post(f"/api/v1/members/{proxy.id}/leave", headers=proxy.headers).status_code == 200
    overview = client.get("/me").text
    assert "Uw gevolmachtigde beslist voor u." not in overview
    assert overview.count("U heeft hiervoor nu geen gevolmachtigde.") == 3
