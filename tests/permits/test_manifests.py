"""Cohort manifests: eligibility as of approval (Art. 71(3)), unlinkable pseudonyms, a
root in the ledger, streamed to the HDAB and data holders; members see their data use."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, func, select

from coop.auth.policy import CLI_ACTOR
from coop.db import Database
from coop.decisions import bulk as cohorts
from coop.errors import Conflict
from coop.permits import entries, manifests, member_sets
from coop.permits.manifests import pseudonym
from coop.permits.models import Manifest, ManifestEntry, ManifestMember, ManifestMemberSet, Permit
from coop.types import utcnow
from ledger import log, merkle
from tests import factories as f


def _permit(client: TestClient, hdab: dict[str, str], **overrides: object) -> dict:
    r = client.post(
        "/api/v1/permits", json=f.permit_body(**{"approved_at": utcnow().isoformat(), **overrides}), headers=hdab
    )
    assert r.status_code == 201, r.text
    return r.json()


def _manifest(client: TestClient, hdab: dict[str, str], permit_id: int) -> dict:
    r = client.post(f"/api/v1/permits/{permit_id}/manifests", headers=hdab)
    assert r.status_code == 201, r.text
    return r.json()


def test_eligible_as_of_approval_under_unlinkable_pseudonyms(client: TestClient, database: Database) -> None:
    _, people = f.with_members(client, database, 6)
    client.patch(f"/api/v1/members/{people[0].id}/choices", json={"opt_out": True}, headers=people[0].headers)
    deny = {"preferences": [{"purpose": "research", "user_type": "academic", "decision": "deny"}]}
    client.patch(f"/api/v1/members/{people[1].id}/choices", json=deny, headers=people[1].headers)
    hdab = f.api_key(database, "hdab")
    first = _permit(client, hdab)
    # opting out after the approval does not bind this permit (Art. 71(3)) ...
    client.patch(f"/api/v1/members/{people[2].id}/choices", json={"opt_out": True}, headers=people[2].headers)
    manifest = _manifest(client, hdab, first["id"])
    assert manifest["size"] == 4 and manifest["as_of"] == first["approved_at"]
    # ... but does bind a permit approved after it
    second = _permit(client, hdab, permit_number="NL-HDAB-2026-0043")
    assert _manifest(client, hdab, second["id"])["size"] == 3
    key = database.settings.privacy.pseudonym_key_file.read_bytes().strip()
    body = client.get(f"/api/v1/permits/{first['id']}/manifests/{manifest['id']}", headers=hdab).json()
    expected = sorted(pseudonym(key, first["id"], m.id).hex() for m in people[2:])
    assert body["pseudonyms"] == expected and body["size"] == 4
    leaves = [merkle.leaf_hash(bytes.fromhex(p)) for p in body["pseudonyms"]]
    assert merkle.root_of_leaf_hashes(leaves).hex() == manifest["root_hash"] == body["root_hash"]
    other = client.get(f"/api/v1/permits/{second['id']}/manifests/1", headers=hdab)
    assert other.status_code == 404  # manifest 1 belongs to the first permit
    second_manifest = client.get(f"/api/v1/permits/{second['id']}/manifests", headers=hdab).json()[0]
    second_body = client.get(f"/api/v1/permits/{second['id']}/manifests/{second_manifest['id']}", headers=hdab).json()
    assert not set(second_body["pseudonyms"]) & set(body["pseudonyms"])  # two permits cannot be linked
    assert not any(str(m.id) == p or m.number in p for m in people for p in body["pseudonyms"])
    with database.unit_of_work(write=False) as s:
        event = log.events_after(s, manifest["ledger_seq"] - 1, 1)[0]
        member_set = s.get(ManifestMemberSet, manifest["id"])
        assert member_set is not None
        assert member_sets.decode(member_set.bits).tolist() == sorted(m.id for m in people[2:])
    assert event.type == "manifest.created" and json.loads(event.payload)["root_hash"] == manifest["root_hash"]


def test_csv_for_the_data_holder_only_if_party(client: TestClient, database: Database) -> None:
    f.with_members(client, database, 3)
    hdab = f.api_key(database, "hdab")
    permit = _permit(client, hdab)
    manifest = _manifest(client, hdab, permit["id"])
    url = f"/api/v1/permits/{permit['id']}/manifests/{manifest['id']}"
    party = f.api_key(database, "data_holder", org="SPE Nederland")
    csv = client.get(url, params={"format": "csv"}, headers=party)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0] == "pseudonym" and len(lines) == 4 and all(len(x) == 64 for x in lines[1:])
    assert client.get(url, headers=f.api_key(database, "data_holder", org="Elsewhere")).status_code == 404
    assert client.get(url, params={"format": "xml"}, headers=party).status_code == 422
    assert client.post(f"/api/v1/permits/{permit['id']}/manifests", headers=party).status_code == 403


def test_no_manifest_for_an_ended_permit(client: TestClient, database: Database) -> None:
    f.with_members(client, database, 1)
    hdab = f.api_key(database, "hdab")
    permit = _permit(client, hdab)
    client.post(f"/api/v1/permits/{permit['id']}/revoke", json={"reason": "breach"}, headers=hdab)
    r = client.post(f"/api/v1/permits/{permit['id']}/manifests", headers=hdab)
    assert r.status_code == 409 and r.json()["code"] == "permit-revoked"
    now = utcnow()
    old = _permit(
        client,
        hdab,
        permit_number="OLD-1",
        approved_at=(now - timedelta(days=30)).isoformat(),
        valid_from=(now - timedelta(days=20)).isoformat(),
        valid_until=(now - timedelta(days=1)).isoformat(),
    )
    assert client.post(f"/api/v1/permits/{old['id']}/manifests", headers=hdab).json()["code"] == "permit-expired"
    assert client.post("/api/v1/permits/999/manifests", headers=hdab).status_code == 404


def test_no_approval_to_come_and_no_manifest_before_approval(client: TestClient, database: Database) -> None:
    """Art. 71(3): a manifest counts members as they are at approval, so that time has passed."""
    f.with_members(client, database, 1)
    hdab = f.api_key(database, "hdab")
    later = (utcnow() + timedelta(days=2)).isoformat()
    r = client.post("/api/v1/permits", json=f.permit_body(approved_at=later), headers=hdab)
    assert r.status_code == 422 and r.json()["code"] == "approved-in-future"
    permit = _permit(client, hdab)
    with database.unit_of_work(write=False) as s:  # as a permit registered before the rule would be
        recorded = s.get(Permit, permit["id"])
        assert recorded is not None
        s.expunge(recorded)
        recorded.approved_at = utcnow() + timedelta(days=2)
        with pytest.raises(Conflict) as refused:
            manifests.create(s, "test", recorded, database.settings, utcnow())
    assert refused.value.code == "permit-not-approved-yet"


def test_the_stricter_policy_honours_later_withdrawals(client: TestClient, database: Database) -> None:
    _, people = f.with_members(client, database, 3)
    hdab = f.api_key(database, "hdab")
    permit = _permit(client, hdab)
    client.patch(f"/api/v1/members/{people[0].id}/choices", json={"opt_out": True}, headers=people[0].headers)
    strict_settings = database.settings.model_copy(deep=True)
    strict_settings.choices.honour_later_withdrawals = True
    with database.unit_of_work() as s:
        strict = manifests.create(s, CLI_ACTOR, s.get(Permit, permit["id"]), strict_settings, utcnow())
    assert strict.size == 2
    assert _manifest(client, hdab, permit["id"])["size"] == 3  # the app's own settings: Art. 71(3) as written


def test_members_see_their_data_use(client: TestClient, database: Database) -> None:
    _, people = f.with_members(client, database, 2)
    client.patch(f"/api/v1/members/{people[1].id}/choices", json={"opt_out": True}, headers=people[1].headers)
    hdab = f.api_key(database, "hdab")
    permit = _permit(client, hdab)
    _manifest(client, hdab, permit["id"])
    _manifest(client, hdab, permit["id"])
    used = client.get(f"/api/v1/members/{people[0].id}/data-use", headers=people[0].headers).json()
    assert [(u["permit_number"], u["applicant"], u["purposes"]) for u in used] == [
        ("NL-HDAB-2026-0042", "Universiteit Utrecht", ["research"])
    ]
    assert client.get(f"/api/v1/members/{people[1].id}/data-use", headers=people[1].headers).json() == []
    assert client.get(f"/api/v1/members/{people[1].id}/data-use", headers=people[0].headers).status_code == 404


def _reference(key: bytes, permit_id: int, members: list[int]) -> tuple[list[bytes], bytes, str]:
    """The manifest as first defined: every pseudonym in memory, sorted, the root over all
    leaves at once, the SHA-256 of the member set."""
    sorted_pseudonyms = sorted(pseudonym(key, permit_id, m) for m in members)
    root = merkle.root_of_leaf_hashes([merkle.leaf_hash(p) for p in sorted_pseudonyms])
    return sorted_pseudonyms, root, hashlib.sha256(member_sets.encode(members)).hexdigest()


def test_a_manifest_built_in_batches_is_the_reference_one(
    client: TestClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Members pseudonymised a few at a time, sorted through the temporary file and read back
    a few at a time, give the pseudonyms, root and member set of the plain definition; so do
    the honour-later-withdrawals path and its set of members still eligible."""
    monkeypatch.setattr(manifests, "BATCH", 3)
    monkeypatch.setattr(cohorts, "_BATCH", 2)  # the eligible members fetched two rows at a time
    monkeypatch.setattr(entries, "READ", 2)
    monkeypatch.setattr(entries, "SET_BYTES", 1)  # the members index written eight ids of the set at a time
    _, people = f.with_members(client, database, 11)
    hdab = f.api_key(database, "hdab")
    permit = _permit(client, hdab)
    for person in people[:2]:  # withdrawn after the approval
        client.patch(f"/api/v1/members/{person.id}/choices", json={"opt_out": True}, headers=person.headers)
    key = database.settings.privacy.pseudonym_key_file.read_bytes().strip()
    strict_settings = database.settings.model_copy(deep=True)
    strict_settings.choices.honour_later_withdrawals = True
    for settings, members in ((database.settings, people), (strict_settings, people[2:])):
        with database.unit_of_work() as s:
            made = manifests.create(s, CLI_ACTOR, s.get(Permit, permit["id"]), settings, utcnow())
            assert made.id is not None
            event = json.loads(log.events_after(s, made.ledger_seq - 1, 1)[0].payload)
            streamed = list(manifests.pseudonyms(s, made.id))
            index = s.exec(select(ManifestMember).where(ManifestMember.manifest_id == made.id)).all()
        assert sorted(i.member_id for i in index) == sorted(m.id for m in members)
        expected, root, members_sha256 = _reference(key, permit["id"], [m.id for m in members])
        assert (made.size, bytes(made.root_hash), streamed) == (len(members), root, expected)
        assert (event["root_hash"], event["members_sha256"]) == (root.hex(), members_sha256)
        assert event["manifest_id"] == made.id  # the id taken before the entries were written
        with database.unit_of_work(write=False) as s:
            rows = s.exec(select(ManifestEntry).where(ManifestEntry.manifest_id == made.id)).all()
        assert sorted(bytes(r.pseudonym) for r in rows) == expected and len(rows) == len(members)


def test_the_stream_leaves_the_planner_as_it_found_it(client: TestClient, database: Database) -> None:
    """The pseudonyms come in order with sorting turned off for their cursor only: the rest
    of the transaction plans as before."""
    f.with_members(client, database, 5)
    hdab = f.api_key(database, "hdab")
    permit = _permit(client, hdab)
    made = _manifest(client, hdab, permit["id"])
    with database.unit_of_work(write=False) as s:
        streamed = manifests.pseudonyms(s, made["id"])
        first = next(streamed)
        if database.dialect == "postgresql":
            assert s.execute(text("SELECT current_setting('enable_sort')")).scalar_one() == "on"
        rest = list(streamed)
    assert len(rest) + 1 == 5 and [first, *rest] == sorted([first, *rest])


def test_a_manifest_that_fails_midway_leaves_nothing_behind(
    client: TestClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    f.with_members(client, database, 3)
    hdab = f.api_key(database, "hdab")
    permit = _permit(client, hdab)
    store = entries.store_members

    def store_then_fail(session: Session, manifest_id: int, bits: bytes) -> None:
        store(session, manifest_id, bits)
        raise RuntimeError("the connection dropped")

    monkeypatch.setattr(entries, "store_members", store_then_fail)
    with database.unit_of_work(write=False) as s:
        seq = log.next_seq(s)
    with pytest.raises(RuntimeError), database.unit_of_work() as s:
        manifests.create(s, CLI_ACTOR, s.get(Permit, permit["id"]), database.settings, utcnow())
    with database.unit_of_work(write=False) as s:
        assert log.next_seq(s) == seq
        for model in (Manifest, ManifestEntry, ManifestMember, ManifestMemberSet):
            assert s.exec(select(func.count()).select_from(model)).one() == 0
