"""What a member agreed to: for each version of their choices, the versions of the mandate
and the benefit policy in force when it began, each shown exactly as the ledger of record
holds it, with a SHA-256 that anyone can check against the ledger's event and its proof."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from fastapi.testclient import TestClient

from coop.db import Database
from coop.types import utcnow
from ledger import canonical
from tests import factories as f
from tests.conftest import Clock


def _adopt_new_policy(client: TestClient, board: dict[str, str], voters: list[f.MemberHandle], clock: Clock) -> None:
    """A new benefit policy (version 2), adopted when the vote closes two hours from now."""
    proposal = f.propose(client, board, quorum_pct=10)
    for m in voters:
        assert f.vote(client, m, proposal["id"], "yes").status_code in (200, 201)
    with clock.at(utcnow() + timedelta(hours=2)):
        closed = client.post(f"/api/v1/governance/proposals/{proposal['id']}/close", headers=board)
    assert closed.status_code == 200 and closed.json()["status"] == "adopted", closed.text


def test_each_version_of_a_members_choices_names_the_rules_in_force_when_it_began(
    client: TestClient, database: Database, clock: Clock
) -> None:
    board = f.founded(client, database)
    anna, bram = f.member(client, board), f.member(client, board)
    _adopt_new_policy(client, board, [anna, bram], clock)
    with clock.at(utcnow() + timedelta(hours=3)):
        changed = client.patch(
            f"/api/v1/members/{anna.id}/choices",
            json={"opt_out": True},
            headers={**anna.headers, "If-Match": f'"{anna.id}.1"'},
        )
        assert changed.status_code == 200, changed.text
        agreed = client.get(f"/api/v1/members/{anna.id}/choices/agreed", headers=anna.headers)
    assert agreed.status_code == 200, agreed.text
    first, second = agreed.json()
    assert (first["choice_version"], first["mandate"]["version"], first["benefit_policy"]["version"]) == (1, 1, 1)
    assert (second["choice_version"], second["mandate"]["version"], second["benefit_policy"]["version"]) == (2, 1, 2)

    # the page of the version: its exact text, and a SHA-256 of the bytes in the ledger event
    document = client.get(second["benefit_policy"]["url"])
    assert document.status_code == 200, document.text  # public: the cooperative's own rules
    body = document.json()
    assert body["sha256"] == second["benefit_policy"]["sha256"] == hashlib.sha256(body["text"].encode()).hexdigest()
    assert body["source"].startswith("proposal:")
    event = client.get(
        "/api/v1/ledger/events", params={"after_seq": body["ledger_seq"] - 1, "limit": 1}, headers=board
    ).json()["items"][0]
    assert event["type"] == "benefit-policy.adopted" and event["seq"] == body["ledger_seq"]
    assert canonical.dumps(event["payload"]["document"]) == body["text"]
    proof = client.get("/api/v1/ledger/proofs/inclusion", params={"seq": body["ledger_seq"]})
    assert proof.status_code == 200, proof.text
    assert proof.json()["leaf_hash"] == event["leaf_hash"] == body["ledger_leaf_hash"]

    # the member's pages, in their language
    f.portal_login(client, anna.email)
    page = client.get("/me/agreed").text
    assert "Waar ik mee instemde" in page
    assert 'href="/me/agreed/benefit-policy/2"' in page and 'href="/me/agreed/mandate/1"' in page
    page = client.get("/me/agreed/benefit-policy/2").text
    assert "Batenbeleid, versie 2" in page and body["sha256"] in page and "De leden kozen deze versie" in page
    statutes = client.get("/me/agreed/mandate/1").text
    assert "Deze versie hoort bij de oprichtingsstatuten." in statutes
    assert "/me/agreed" in client.get("/me/history").text


def test_another_member_cannot_read_what_a_member_agreed_to_and_a_missing_version_is_a_clear_404(
    client: TestClient, database: Database
) -> None:
    board = f.founded(client, database)
    anna, bram = f.member(client, board), f.member(client, board)
    assert client.get(f"/api/v1/members/{anna.id}/choices/agreed", headers=bram.headers).status_code == 404
    missing = client.get("/api/v1/governance/documents/mandate/9")
    assert missing.status_code == 404 and missing.json()["code"] == "document-not-found"
    assert client.get("/api/v1/governance/documents/statutes/1").status_code == 422
    f.portal_login(client, anna.email)
    assert client.get("/me/agreed/mandate/9").status_code == 404
