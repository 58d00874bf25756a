"""The board writes a proposal in the portal: the form starts from the version in force, a
preview says what would change, and only then is the vote opened. Every wrong field is said
beside it, in the visitor's language, and changes nothing."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from coop.db import Database
from tests import factories as f

PAIR = "research.commercial"
POLICY = {"kind": "benefit-policy", "lang": "en"}


def _fields(html: str) -> dict[str, str]:
    """The form's fields as a browser would send them (text, numbers, selected options, ticked boxes)."""
    values: dict[str, str] = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        if name != "csrf":
            values[name] = value
    for name in re.findall(r'<input type="checkbox" name="([^"]+)" checked>', html):
        values[name] = "on"
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]+)" selected>', options)
        assert chosen, name
        values[name] = chosen.group(1)
    return values


def _proposals(client: TestClient, board: dict[str, str]) -> list[dict]:
    return client.get("/api/v1/governance/proposals", headers=board).json()


def test_the_board_writes_a_mandate_proposal_sees_what_changes_and_opens_the_vote(
    client: TestClient, database: Database
) -> None:
    board = f.founded(client, database)
    f.member(client, board)
    f.portal_login(client, f.BOARD_EMAIL)
    listing = client.get("/board/proposals")
    assert 'href="/board/proposals/new?kind=mandate"' in listing.text
    page = client.get("/board/proposals/new", params={"kind": "mandate"})
    assert page.status_code == 200 and "Nieuw voorstel: het mandaat" in page.text
    values = _fields(page.text)
    before = values[f"{PAIR}.decision"]
    after = "deny" if before != "deny" else "allow"
    values |= {"title": "Geen commercieel onderzoek meer", f"{PAIR}.decision": after}

    preview = client.post(
        "/board/proposals/preview", params={"kind": "mandate"}, data={"csrf": f.csrf(page.text), **values}
    )
    assert preview.status_code == 200, preview.text
    assert "Voorbeeld van het voorstel" in preview.text and "Geen commercieel onderzoek meer" in preview.text
    changes = re.search(r"<h3>Wat verandert</h3>\s*<ul>(.*?)</ul>", preview.text, re.S)
    assert changes, preview.text
    assert changes.group(1).count("<li>") == 1, "only the rule that changed"
    assert _proposals(client, board) == [], "a preview opens nothing"

    opened = client.post(
        "/board/proposals/new",
        params={"kind": "mandate"},
        data={"csrf": f.csrf(preview.text), **_fields(preview.text)},
        follow_redirects=False,
    )
    assert opened.status_code == 303 and opened.headers["location"] == "/board/proposals?saved=1"
    [proposal] = _proposals(client, board)
    assert proposal["title"] == "Geen commercieel onderzoek meer" and proposal["status"] == "open"
    rule = next(r for r in proposal["body"]["rules"] if (r["purpose"], r["user_type"]) == ("research", "commercial"))
    assert rule["decision"] == after


def test_every_wrong_field_is_said_beside_it_and_nothing_is_opened(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    page = client.get("/board/proposals/new", params={"kind": "mandate"})
    values = _fields(page.text) | {
        "title": "  ",
        "closes_at": "2001-01-01T10:00",
        "quorum_pct": "150",
        "majority_pct": "veel",
        f"{PAIR}.decision": "conditional",
        f"{PAIR}.min_benefit_share_pct": "",
        f"{PAIR}.max_duration_months": "",
    }
    for flag in ("open_results", "processing_in_eu", "ethics_review"):
        values.pop(f"{PAIR}.{flag}", None)
    refused = client.post(
        "/board/proposals/preview", params={"kind": "mandate"}, data={"csrf": f.csrf(page.text), **values}
    )
    assert refused.status_code == 422
    for field, words in [
        ("title", "Schrijf een titel van 1 tot 200 tekens."),
        ("closes_at", "De stemming moet sluiten na het begin, en in de toekomst."),
        ("quorum_pct", "Dit getal is te klein of te groot."),
        ("majority_pct", "Vul een heel getal in."),
        (f"{PAIR}.decision", "Een regel met voorwaarden heeft minstens één voorwaarde nodig."),
    ]:
        assert f'<span class="field-error" id="{field}-error">{words}</span>' in refused.text, field
        assert f'aria-describedby="{field}-error"' in refused.text
    assert 'value="veel"' in refused.text, "what was typed stays"
    opened = client.post("/board/proposals/new", params={"kind": "mandate"}, data={"csrf": f.csrf(page.text), **values})
    assert opened.status_code == 422 and _proposals(client, board) == []


def test_a_benefit_policy_whose_shares_do_not_add_up_is_refused_in_english_too(
    client: TestClient, database: Database
) -> None:
    board = f.founded(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    page = client.get("/board/proposals/new", params=POLICY)
    values = _fields(page.text) | {"title": "More to society", "solidarity_pct": "90"}
    refused = client.post("/board/proposals/preview", params=POLICY, data={"csrf": f.csrf(page.text), **values})
    assert refused.status_code == 422 and "The three shares must add up to 100%." in refused.text
    values |= {"reserve_pct": "10", "solidarity_pct": "40", "members_pct": "50"}
    preview = client.post("/board/proposals/preview", params=POLICY, data={"csrf": f.csrf(page.text), **values})
    assert preview.status_code == 200 and "40%" in preview.text
    client.post("/board/proposals/new", params=POLICY, data={"csrf": f.csrf(preview.text), **values})
    [proposal] = _proposals(client, board)
    assert proposal["body"]["solidarity_pct"] == 40


def test_a_member_cannot_write_proposals(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    anna = f.member(client, board)
    f.portal_login(client, anna.email)
    assert client.get("/board/proposals/new", params={"kind": "mandate"}).status_code == 403
    me = client.get("/me")
    r = client.post("/board/proposals/new", params={"kind": "mandate"}, data={"csrf": f.csrf(me.text), "title": "x"})
    assert r.status_code == 403 and _proposals(client, board) == []
