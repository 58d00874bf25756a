"""A third party processing on behalf of a public-sector body (EHDS Art. 53(2)) may use the
data for the purposes reserved to the public sector; consultations, permits and manifests
decide its use as that body's, with the members' choices for the public sector."""

from __future__ import annotations

from fastapi.testclient import TestClient

from coop.db import Database
from coop.types import utcnow
from tests import factories as f


def test_a_consultation_on_behalf_of_a_public_body(client: TestClient, database: Database) -> None:
    f.founded(client, database)
    hdab = f.api_key(database, "hdab")
    alone = client.post(f.CONSULTATIONS, json=f.application(purposes=["statistics"]), headers=hdab).json()
    assert alone["position"] == "object" and [r["code"] for r in alone["reasons"]] == ["public-sector-only"]
    assert "on their behalf" in alone["reasons"][0]["message"]
    body = f.application(application_ref="HDAB-2026-0043", purposes=["statistics"], on_behalf_of_public_body=True)
    r = client.post(f.CONSULTATIONS, json=body, headers=hdab)
    assert r.status_code == 201, r.text
    answer = r.json()
    assert "public-sector-only" not in [x["code"] for x in answer["reasons"]] and answer["position"] != "object"
    assert answer["request"]["on_behalf_of_public_body"] is True
    assert "on_behalf_of_public_body" not in alone["request"]  # absent when false, as before this field


def test_a_permit_on_behalf_of_a_public_body_counts_the_public_sector_choices(
    client: TestClient, database: Database
) -> None:
    yes, no, _left_to_the_mandate = f.members(client, f.founded(client, database), 3)
    for person, choice in ((yes, "allow"), (no, "deny")):
        wish = {"preferences": [{"purpose": "statistics", "user_type": "public", "decision": choice}]}
        changed = client.patch(f"/api/v1/members/{person.id}/choices", json=wish, headers=person.headers)
        assert changed.status_code == 200
    hdab = f.api_key(database, "hdab")
    reserved = f.permit_body(purposes=["statistics"], approved_at=utcnow().isoformat())
    refused = client.post("/api/v1/permits", json=reserved, headers=hdab)
    assert refused.status_code == 422 and refused.json()["code"] == "public-sector-only"
    r = client.post("/api/v1/permits", json={**reserved, "on_behalf_of_public_body": True}, headers=hdab)
    assert r.status_code == 201, r.text
    permit = r.json()
    assert permit["on_behalf_of_public_body"] is True and permit["user_type"] == "academic"
    on_behalf = {**reserved, "on_behalf_of_public_body": True}
    assert client.post("/api/v1/permits", json=on_behalf, headers=hdab).status_code == 200  # a retry
    differs = client.post("/api/v1/permits", json=on_behalf | {"purposes": ["statistics", "policy"]}, headers=hdab)
    assert differs.status_code == 409 and differs.json()["fields"] == ["purposes"]
    manifest = client.post(f"/api/v1/permits/{permit['id']}/manifests", headers=hdab)
    assert manifest.status_code == 201, manifest.text
    assert manifest.json()["size"] == 2  # the mandate allows statistics by the public sector; one member said no
    mine = client.get(f"/api/v1/members/{yes.id}/data-use", headers=yes.headers)
    assert [p["permit_number"] for p in mine.json()] == [permit["permit_number"]]
    theirs = client.get(f"/api/v1/members/{no.id}/data-use", headers=no.headers)
    assert theirs.json() == []
