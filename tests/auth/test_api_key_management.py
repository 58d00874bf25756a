"""The board makes, lists and revokes the organisations' keys through the API and the portal:
a new key's token is shown once and works at once; the list never shows a secret; a revoked
key stops working; nobody but the board may do any of it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f

KEYS = "/api/v1/auth/api-keys"


def test_the_board_makes_a_key_that_works_lists_it_without_secret_and_revokes_it(
    client: TestClient, database: Database
) -> None:
    board = f.founded(client, database)
    r = client.post(KEYS, json={"org": "Zorginstituut HDAB", "role": "hdab"}, headers=board)
    assert r.status_code == 201, r.text
    made = r.json()
    hdab = {"Authorization": f"Bearer {made['token']}"}
    assert client.get("/api/v1/permits", headers=hdab).status_code == 200, "it works at once"
    listed = client.get(KEYS, headers=board).json()
    assert [k["prefix"] for k in listed] == [made["prefix"]]
    assert made["token"] not in str(listed) and "token" not in listed[0], "never the secret again"

    revoked = client.post(f"{KEYS}/{made['id']}/revoke", headers=board)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert client.get("/api/v1/permits", headers=hdab).status_code == 401
    again = client.post(f"{KEYS}/{made['id']}/revoke", headers=board)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"], "revoking again changes nothing"
    events = client.get("/api/v1/ledger/events", params={"limit": 1000}, headers=board).json()["items"]
    assert [e["type"] for e in events if e["subject"] == f"key:{made['id']}"] == ["api-key.created", "api-key.revoked"]


def test_bad_keys_and_other_parties_are_refused(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    anna = f.member(client, board)
    auditor = f.api_key(database, "auditor")
    for headers in (anna.headers, auditor):
        assert client.post(KEYS, json={"org": "X", "role": "hdab"}, headers=headers).status_code == 403
        assert client.get(KEYS, headers=headers).status_code == 403
    assert client.get(KEYS).status_code == 401
    bad = client.post(KEYS, json={"org": "X", "role": "board"}, headers=board)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert client.post(KEYS, json={"org": " ", "role": "auditor"}, headers=board).status_code == 422
    assert client.post(f"{KEYS}/999999/revoke", headers=board).json()["code"] == "api-key-not-found"
    assert [k["org"] for k in client.get(KEYS, headers=board).json()] == ["Test organisation"], "nothing made"


def test_the_board_makes_and_revokes_a_key_in_the_portal(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    page = client.get("/board/api-keys")
    assert page.status_code == 200 and "API-sleutels" in page.text
    made = client.post(
        "/board/api-keys", data={"csrf": f.csrf(page.text), "org": "SPE Nederland", "role": "data_holder"}
    )
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    token = re.search(r'id="token" type="text" readonly value="([^"]+)"', made.text)
    assert token and "U ziet hem niet nog een keer." in made.text
    assert client.get("/api/v1/permits", headers={"Authorization": f"Bearer {token.group(1)}"}).status_code == 200
    listing = client.get("/board/api-keys")
    assert "SPE Nederland" in listing.text and token.group(1) not in listing.text, "shown once"
    [key] = client.get(KEYS, headers=board).json()
    revoked = client.post(
        f"/board/api-keys/{key['id']}/revoke", data={"csrf": f.csrf(listing.text)}, follow_redirects=False
    )
    assert revoked.headers["location"] == "/board/api-keys?saved=1"
    assert client.get("/api/v1/permits", headers={"Authorization": f"Bearer {token.group(1)}"}).status_code == 401
    refused = client.post(
        "/board/api-keys", data={"csrf": f.csrf(listing.text), "org": "X", "role": "board"}, follow_redirects=False
    )
    assert refused.status_code == 303 and refused.headers["location"].startswith("/board/api-keys?error=")


def test_a_member_cannot_open_the_keys_page(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    anna = f.member(client, board)
    f.portal_login(client, anna.email)
    assert client.get("/board/api-keys").status_code == 403
