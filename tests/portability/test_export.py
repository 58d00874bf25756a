"""A member's data export (GDPR Art. 15 and 20): the JSON file validates against its published
schema and holds every part of a member with history; the pseudonym of every manifest that
included the member is the one in that manifest's download, and no other manifest is named;
only the member (also after leaving) and the board get it; the PDF summary is in the member's
language."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from fastapi.testclient import TestClient

from coop.db import Database
from coop.members.models import member_number
from coop.permits import manifests
from coop.portability.schemas import SCHEMA_URL_PATH, generated_schema, published_schema
from coop.settings import Settings
from coop.types import utcnow
from tests import factories as f
from tests import pdfs
from tests.conftest import Clock

HDAB_PERMIT = "/api/v1/permits"


def _export(client: TestClient, member: f.MemberHandle, headers: dict[str, str] | None = None) -> Any:
    return client.get(f"/api/v1/members/{member.id}/export", headers=headers or member.headers)


def _valid(client: TestClient, document: dict[str, Any]) -> None:
    schema = client.get(SCHEMA_URL_PATH)
    assert schema.status_code == 200 and schema.headers["content-type"].startswith("application/schema+json")
    validator = jsonschema.Draft202012Validator(
        schema.json(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(document), key=str)
    assert not errors, errors[0]


def _history(client: TestClient, database: Database, clock: Clock) -> dict[str, Any]:
    """people[0] with everything: choices changed (they opt out, so a second permit's manifest
    leaves them out), a proxy both ways, a carer, a vote, a manifest, a dividend paid, mail."""
    board, people, permit_id = f.cooperative(client, database)
    hdab = f.api_key(database, "hdab")
    me, proxy, principal = people
    f.appointed(client, me, proxy, purposes=["research"])
    f.appointed(client, principal, me, purposes=["education"], voting=True)
    f.ask_carer(client, me, "carer.export@example.org", purposes=["education"])
    proposal = f.propose(client, board)
    assert f.vote(client, me, proposal["id"], "yes").status_code in (200, 201)
    r = client.patch(f"/api/v1/members/{me.id}/choices", json={"opt_out": True}, headers=me.headers)
    assert r.status_code == 200, r.text
    second = client.post(
        HDAB_PERMIT,
        json=f.permit_body(permit_number="NL-HDAB-2026-0099", approved_at=utcnow().isoformat()),
        headers=hdab,
    )
    assert second.status_code == 201, second.text
    later = client.post(f"{HDAB_PERMIT}/{second.json()['id']}/manifests", headers=hdab)
    assert later.status_code == 201, later.text
    f.money(client, board, permit_id, income=100_000, expense=10_000)
    clock.moment = f.AFTER
    draft = client.post("/api/v1/distributions", json=f.PERIOD, headers=board)
    assert draft.status_code == 201, draft.text
    assert f.commit(client, database, board, draft.json()["id"]).status_code == 200
    return {"board": board, "hdab": hdab, "people": people, "permits": [permit_id, second.json()["id"]]}


def test_the_export_holds_every_part_and_validates_against_its_schema(
    client: TestClient, database: Database, clock: Clock, settings: Settings
) -> None:
    world = _history(client, database, clock)
    me, proxy, principal = world["people"]
    r = _export(client, me)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    day = clock().date().isoformat()
    assert r.headers["content-disposition"] == f'attachment; filename="member-data-{me.number}-{day}.json"'
    doc = r.json()
    _valid(client, doc)
    assert doc["schema_version"] == "1"
    assert doc["schema"] == settings.mail.portal_url.rstrip("/") + SCHEMA_URL_PATH
    assert doc["member"]["number"] == me.number and doc["member"]["email"] == me.email
    assert doc["member"]["status"] == "active" and doc["member"]["left_at"] is None
    versions = doc["choices_history"]
    assert [v["version"] for v in versions] == list(range(1, len(versions) + 1)) and len(versions) >= 2
    assert versions[0]["made_by"] == "board" and versions[-1]["made_by"] == "self" and versions[-1]["opt_out"]
    assert all(v["mandate_version"] == 1 for v in versions) and versions[-1]["changes"]
    (mine,) = [a for a in doc["proxies"]["appointed"] if a["proxy_number"] == proxy.number]
    assert mine["status"] == "active" and mine["purposes"] == ["research"] and mine["accepted_at"]
    (carer,) = [a for a in doc["proxies"]["appointed"] if a["carer_name"]]
    assert carer["carer_name"] == "Carla Zorg" and carer["status"] == "waiting"
    (acting,) = doc["proxies"]["acting_for"]
    assert acting["principal_number"] == principal.number and acting["voting"] and acting["carer_name"] is None
    (vote,) = doc["votes"]
    assert vote["vote"] == "yes" and not vote["by_proxy"]
    (received,) = doc["dividends"]["distributions"]
    assert received["total_cents"] > 0 and received["parts"][0]["permit_number"] == "NL-HDAB-2026-0042"
    assert sum(p["amount_cents"] for p in doc["dividends"]["payouts"]) == doc["dividends"]["paid_out_cents"] > 0
    kinds = {m["kind"] for m in doc["messages"]}
    assert {"invitation", "proxy-appointed", "acting-for-started"} <= kinds
    assert all(m["subject"] for m in doc["messages"])
    assert doc["access_log"] == []
    # nothing of another member: their email, their messages
    assert proxy.email not in r.text and principal.email not in r.text


def test_the_pseudonym_of_every_manifest_that_included_the_member_is_the_one_in_its_download(
    client: TestClient, database: Database, clock: Clock, settings: Settings
) -> None:
    world = _history(client, database, clock)
    me = world["people"][0]
    first, second = world["permits"]
    doc = _export(client, me).json()
    assert [m["permit_id"] for m in doc["manifests"]] == [first]  # the second came after the opt-out
    for m in doc["manifests"]:
        download = client.get(f"{HDAB_PERMIT}/{m['permit_id']}/manifests/{m['manifest_id']}", headers=world["hdab"])
        assert download.status_code == 200
        listed = download.json()
        assert m["pseudonym"] in listed["pseudonyms"]
        assert listed["root_hash"] == m["root_hash"] and listed["size"] == m["size"] == 3
        csv = client.get(
            f"{HDAB_PERMIT}/{m['permit_id']}/manifests/{m['manifest_id']}",
            params={"format": "csv"},
            headers=world["hdab"],
        )
        assert m["pseudonym"] in csv.text.split()
    key = settings.privacy.pseudonym_key_file.read_bytes().strip()
    absent = manifests.pseudonym(key, second, me.id).hex()
    later = client.get(f"{HDAB_PERMIT}/{second}/manifests", headers=world["hdab"]).json()
    download = client.get(f"{HDAB_PERMIT}/{second}/manifests/{later[0]['id']}", headers=world["hdab"]).json()
    assert absent not in download["pseudonyms"] and len(download["pseudonyms"]) == 2
    text = json.dumps(doc)
    assert absent not in text
    assert not any(p in text for p in download["pseudonyms"])  # nobody else's pseudonym either


def test_only_the_member_and_the_board_get_it(client: TestClient, database: Database) -> None:
    board, people = f.with_members(client, database, 3)
    me, other, proxy = people
    f.appointed(client, me, proxy, purposes=["research"], voting=True)
    f.ask_carer(client, me, f.CARER_EMAIL, purposes=["education"])
    carer = f.signed_in_carer(client, database, f.CARER_EMAIL)
    hdab = f.api_key(database, "hdab")
    holder = f.api_key(database, "data_holder", org="SPE Nederland")
    for path in ("export", "export.pdf"):
        url = f"/api/v1/members/{me.id}/{path}"
        for headers in (other.headers, proxy.headers, carer, hdab, holder):
            refused = client.get(url, headers=headers)
            assert refused.status_code == 404 and refused.json()["code"] == "member-not-found"
        assert client.get(url).status_code == 401
        assert client.get(url, headers=board).status_code == 200
        assert client.get(url, headers=me.headers).status_code == 200
    missing = client.get("/api/v1/members/999999/export", headers=me.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "member-not-found"


def test_a_former_member_downloads_their_data(client: TestClient, database: Database) -> None:
    _board, people = f.with_members(client, database, 1)
    (me,) = people
    assert client.post(f"/api/v1/members/{me.id}/leave", headers=me.headers).status_code == 200
    headers = f.login(client, me.email)
    r = client.get(f"/api/v1/members/{me.id}/export", headers=headers)
    assert r.status_code == 200
    doc = r.json()
    _valid(client, doc)
    assert doc["member"]["status"] == "left" and doc["member"]["left_at"]
    assert not doc["choices_history"][-1]["is_member"]
    pdf = client.get(f"/api/v1/members/{me.id}/export.pdf", headers=headers)
    assert pdf.status_code == 200 and "U bent geen lid meer sinds" in pdfs.text(pdf.content)


def test_the_pdf_summary_is_in_the_members_language(client: TestClient, database: Database, clock: Clock) -> None:
    world = _history(client, database, clock)
    me = world["people"][0]
    r = client.get(f"/api/v1/members/{me.id}/export.pdf", headers=me.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith(f'attachment; filename="member-data-{me.number}-')
    text = pdfs.text(r.content)
    doc = _export(client, me).json()
    assert me.number in text and "Uw gegevens bij de coöperatie" in text and "JSON" in text
    assert "Versies van uw keuzes: " + str(len(doc["choices_history"])) in text
    assert doc["manifests"][0]["pseudonym"] in "".join(text.split())
    pdfs.render_png(r.content, "member-data-nl")
    assert "Your data" not in text
    pdfs.render_png(r.content, "member-data-nl")
    english = f.member(client, world["board"], language="en")
    text = pdfs.text(client.get(f"/api/v1/members/{english.id}/export.pdf", headers=english.headers).content)
    assert english.number in text and "Your data at the cooperative" in text and "Uw gegevens" not in text


def test_the_published_schema_is_the_models_and_documents_every_field(client: TestClient) -> None:
    assert published_schema() == generated_schema()  # run `python -m coop.portability.schemas` after a change
    served = client.get(SCHEMA_URL_PATH).json()
    assert served["$schema"] == "https://json-schema.org/draft/2020-12/schema" and served["$id"].endswith(
        SCHEMA_URL_PATH
    )
    jsonschema.Draft202012Validator.check_schema(served)
    undocumented = [
        f"{name}.{field}"
        for name, definition in [("export", served), *served["$defs"].items()]
        for field, spec in definition.get("properties", {}).items()
        if not spec.get("description")
    ]
    assert not undocumented
    page = (Path(__file__).resolve().parents[2] / "docs" / "member-export.md").read_text(encoding="utf-8")
    fields = {field for _, d in [("export", served), *served["$defs"].items()] for field in d.get("properties", {})}
    assert {field for field in fields if f"| `{field}` |" not in page} == set()  # the page lists every field


def test_member_numbers_name_the_proxies_never_their_email(client: TestClient, database: Database) -> None:
    _board, people = f.with_members(client, database, 2)
    me, proxy = people
    f.appointed(client, proxy, me, purposes=["research"], show_name=True)
    doc = _export(client, me).json()
    (acting,) = doc["proxies"]["acting_for"]
    assert acting["principal_number"] == member_number(proxy.id) and proxy.email not in json.dumps(doc)
