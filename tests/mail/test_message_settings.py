"""A member's message settings: their own to see and change, on their page and through the
API; nobody else's, not even the board's."""

from __future__ import annotations

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f
from tests.factories.portal import csrf

DEFAULTS = {"dividend": True, "digest": "monthly", "votes": True}


def _settings(member: f.MemberHandle) -> str:
    return f"/api/v1/members/{member.id}/message-settings"


def test_a_member_sees_and_changes_their_own_settings_and_nobody_else_does(
    client: TestClient, database: Database
) -> None:
    board = f.board(client, database)
    ann, bob = f.members(client, board, 2)
    assert client.get(_settings(ann), headers=ann.headers).json() == DEFAULTS
    wanted = {"dividend": False, "digest": "never", "votes": False}
    r = client.put(_settings(ann), json=wanted, headers=ann.headers)
    assert r.status_code == 200 and r.json() == wanted
    assert client.get(_settings(ann), headers=ann.headers).json() == wanted

    for headers in (bob.headers, board):
        assert client.get(_settings(ann), headers=headers).status_code == 404
        r = client.put(_settings(ann), json=DEFAULTS, headers=headers)
        assert r.status_code == 404 and r.json()["code"] == "member-not-found"
    assert client.get(_settings(ann)).status_code == 401
    assert client.put(_settings(ann), json={**wanted, "digest": "weekly"}, headers=ann.headers).status_code == 422
    assert client.get(_settings(ann), headers=ann.headers).json() == wanted
    assert client.get(_settings(bob), headers=bob.headers).json() == DEFAULTS


def test_the_messages_page_shows_and_changes_the_settings_with_a_csrf_token(
    client: TestClient, database: Database
) -> None:
    board = f.board(client, database)
    ann = f.member(client, board, language="en")
    f.portal_login(client, ann.email)
    page = client.get("/me/messages")
    assert page.status_code == 200
    assert "Messages by email" in page.text and 'href="/me/messages"' in page.text
    assert "You cannot turn these off" in page.text  # security notices and the law's messages
    assert 'name="dividend" checked' in page.text and '<option value="monthly" selected>' in page.text

    refused = client.post("/me/messages", data={"digest": "never"}, follow_redirects=False)
    assert refused.status_code in (403, 422)
    assert client.get(_settings(ann), headers=ann.headers).json() == DEFAULTS

    r = client.post(
        "/me/messages", data={"csrf": csrf(page.text), "votes": "on", "digest": "immediately"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/me/messages?saved=1"
    assert client.get(_settings(ann), headers=ann.headers).json() == {
        "dividend": False,
        "digest": "immediately",
        "votes": True,
    }
    dutch = client.get("/me/messages?lang=nl")
    assert "Berichten per e-mail" in dutch.text and "Die kun je niet uitzetten" in dutch.text
    assert 'name="dividend" checked' not in dutch.text and '<option value="immediately" selected>' in dutch.text
