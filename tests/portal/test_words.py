"""What the portal's pages say, in words: no yes offered for what the law does not allow, no
raw codes, and times in the cooperative's own time zone, labelled."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f
from tests.portal.test_portal import _csrf, _login


def _select(html: str, key: str) -> str | None:
    match = re.search(rf'<select id="pref-{re.escape(key)}"[^>]*>(.*?)</select>', html, re.S)
    return match.group(1) if match else None


def test_the_choices_form_offers_no_yes_for_what_the_law_does_not_allow(client: TestClient, database: Database) -> None:
    """Statistics by a university is for public-sector bodies only (EHDS Art. 53(2)): the form
    says so instead of offering a yes the service would refuse."""
    board = f.board(client, database)
    anna = f.member(client, board)
    _login(client, anna.email)
    page = client.get("/me/choices").text
    assert _select(page, "statistics:academic") is None and _select(page, "policy:commercial") is None
    assert 'value="allow"' in (_select(page, "statistics:public") or "")  # a public body: the member's yes counts
    assert 'value="allow"' in (_select(page, "research:commercial") or "")
    assert "Niet toegestaan voor deze gebruiker: de wet staat het niet toe" in page
    english = client.get("/me/choices?lang=en").text
    assert _select(english, "statistics:academic") is None
    assert "Not allowed for this user: the law does not allow it" in english
    # the form still saves the member's other choices, and leaves the law's answer alone
    form = {"csrf": _csrf(page), "pref:research:commercial": "deny"}
    assert client.post("/me/choices", data=form, follow_redirects=False).headers["location"] == "/me/choices?saved=1"
    api = client.get(f"/api/v1/members/{anna.id}/choices", headers=anna.headers).json()
    assert {"purpose": "research", "user_type": "commercial", "decision": "deny"} in api["preferences"]
    assert {"purpose": "statistics", "user_type": "academic", "decision": "mandate"} in api["preferences"]
