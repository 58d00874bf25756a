"""The FHIR R5 Consent validates with fhir.resources and says what the member chose."""

from __future__ import annotations

from fastapi.testclient import TestClient
from fhir.resources.consent import Consent

from coop.db import Database
from tests import factories as f


def _consent(client: TestClient, who: f.MemberHandle, member_id: int) -> tuple[dict, Consent]:
    r = client.get(f"/api/v1/members/{member_id}/choices/fhir", headers=who.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    return r.json(), Consent.model_validate(r.json())


def test_choices_as_a_valid_r5_consent(client: TestClient, database: Database) -> None:
    f.statutes(database)
    board = f.board(client, database)
    m, proxy = f.member(client, board), f.member(client, board)
    client.patch(
        f"/api/v1/members/{m.id}/choices",
        json={
            "preferences": [
                {"purpose": "research", "user_type": "academic", "decision": "allow"},
                {"purpose": "ai-training", "user_type": "commercial", "decision": "deny"},
            ],
            "excluded_categories": ["genetic"],
        },
        headers=m.headers,
    )
    f.appointed(client, m, proxy, purposes=["education"])
    body, consent = _consent(client, m, m.id)
    assert consent.status == "active" and consent.decision == "deny"
    assert consent.policyBasis.url == "urn:coop:mandate:1"
    assert [g.identifier.value for g in consent.grantee] == [proxy.number]
    permits = {(p.purpose[0].code, p.actor[0].role.coding[0].code): p for p in consent.provision}
    assert ("ai-training", "commercial") not in permits  # her own deny
    assert permits[("research", "academic")].extension is None  # her own allow
    assert permits[("education", "public")].extension[0].valueCode == "proxy"
    assert permits[("policy", "public")].extension[0].valueCode == "mandate"
    nested = permits[("research", "academic")].provision[0]
    assert nested.code[0].coding[0].code == "genetic"  # excluded within every permit
    assert "@" not in str(body) and "Member" not in str(body)  # numbers only, no names or emails


def test_an_opt_out_is_a_plain_deny(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    client.patch(f"/api/v1/members/{m.id}/choices", json={"opt_out": True}, headers=m.headers)
    _, consent = _consent(client, m, m.id)
    assert consent.decision == "deny" and not consent.provision


def test_another_member_cannot_read_it(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    a, b = f.member(client, board), f.member(client, board)
    assert client.get(f"/api/v1/members/{b.id}/choices/fhir", headers=a.headers).status_code == 404
