"""The mandate and benefit policy: validation with field-level errors, versions in force
as of any time, founding statutes, and immutability."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from coop.auth.policy import CLI_ACTOR
from coop.db import Database
from coop.errors import Conflict, Invalid
from coop.governance import queries, service
from coop.governance.documents import BenefitPolicy, DocumentKind, Mandate, parse_document
from coop.types import utcnow
from ledger import log
from tests import factories as f


def _locs(kind: DocumentKind, body: object) -> list[tuple]:
    document, errors = parse_document(kind, body)
    assert document is None
    return [e.loc for e in errors]


def test_valid_example_documents() -> None:
    import tomllib

    statutes = tomllib.loads(f.STATUTES.read_text())
    mandate, errors = parse_document(DocumentKind.mandate, statutes["mandate"])
    assert errors == [] and isinstance(mandate, Mandate)
    policy, errors = parse_document(DocumentKind.benefit_policy, statutes["benefit_policy"])
    assert errors == [] and isinstance(policy, BenefitPolicy)


def test_mandate_inconsistencies_are_field_errors() -> None:
    rule = {"purpose": "research", "user_type": "academic", "decision": "allow"}
    assert _locs(DocumentKind.mandate, {"rules": [rule, rule]}) == [("rules", 1)]
    assert _locs(
        DocumentKind.mandate, {"rules": [{"purpose": "research", "user_type": "commercial", "decision": "conditional"}]}
    ) == [("rules", 0, "conditions")]
    assert _locs(
        DocumentKind.mandate,
        {"rules": [{**rule, "conditions": {"open_results": True}}]},
    ) == [("rules", 0, "conditions")]
    assert _locs(
        DocumentKind.mandate, {"rules": [{"purpose": "statistics", "user_type": "commercial", "decision": "allow"}]}
    ) == [("rules", 0, "decision")]
    assert _locs(DocumentKind.mandate, {"rules": [{**rule, "purpose": "gossip"}]}) == [("rules", 0, "purpose")]
    assert _locs(DocumentKind.mandate, {"rules": [], "default": "conditional"}) == [("default",)]
    assert _locs(DocumentKind.mandate, {"rules": [], "colour": "red"}) == [("colour",)]


def test_benefit_policy_must_sum_to_100() -> None:
    body = {"reserve_pct": 20, "solidarity_pct": 30, "members_pct": 49, "minimum_payout_cents": 500}
    assert _locs(DocumentKind.benefit_policy, body) == [("members_pct",)]
    assert _locs(DocumentKind.benefit_policy, {**body, "minimum_payout_cents": 4.5}) == [("minimum_payout_cents",)]
    assert _locs(DocumentKind.benefit_policy, {**body, "reserve_pct": -1, "members_pct": 71}) == [("reserve_pct",)]


def test_init_records_version_one_and_refuses_twice(database: Database) -> None:
    with database.unit_of_work() as s:
        mandate, policy = service.init_statutes(s, CLI_ACTOR, f.STATUTES, now=utcnow())
    assert (mandate.version, policy.version) == (1, 1)
    with database.unit_of_work(write=False) as s:
        types = [e.type for e in log.events_after(s, 0, 100)]
    assert types == ["mandate.adopted", "benefit-policy.adopted"]
    with pytest.raises(Conflict), database.unit_of_work() as s:
        service.init_statutes(s, CLI_ACTOR, f.STATUTES, now=utcnow())


def test_init_rejects_bad_statutes_with_locations(database: Database, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[mandate]\ndefault = "deny"\n'
        "[benefit_policy]\nreserve_pct = 50\nsolidarity_pct = 50\nmembers_pct = 50\nminimum_payout_cents = 0\n"
    )
    with pytest.raises(Invalid) as info, database.unit_of_work() as s:
        service.init_statutes(s, CLI_ACTOR, bad, now=utcnow())
    assert info.value.extra["errors"][0]["loc"] == ["benefit_policy", "members_pct"]
    with database.unit_of_work(write=False) as s:
        assert queries.in_force(s, DocumentKind.mandate, utcnow()) is None  # nothing written


def test_versions_in_force_as_of_any_time(database: Database, client: TestClient) -> None:
    before = utcnow()
    with database.unit_of_work() as s:
        service.init_statutes(s, CLI_ACTOR, f.STATUTES, now=utcnow())
    between = utcnow()
    stricter = Mandate(default="deny", rules=[])
    with database.unit_of_work() as s:
        v2 = service.record(s, CLI_ACTOR, DocumentKind.mandate, stricter, "proposal:1", between + timedelta(seconds=1))
    assert v2.version == 2
    r = client.get("/api/v1/mandate", params={"at": between.isoformat()})
    assert r.status_code == 200 and r.json()["version"] == 1 and r.json()["source"] == "statutes"
    r = client.get("/api/v1/mandate", params={"at": (between + timedelta(seconds=2)).isoformat()})
    assert r.json()["version"] == 2 and r.json()["mandate"]["rules"] == []
    assert client.get("/api/v1/mandate", params={"at": before.isoformat()}).status_code == 404
    assert client.get("/api/v1/mandate", params={"at": "2026-01-01T00:00:00"}).status_code == 422  # no offset
    policy = client.get("/api/v1/benefit-policy").json()
    assert policy["benefit_policy"]["members_pct"] == 50


def test_documents_cannot_be_altered(database: Database) -> None:
    with database.unit_of_work() as s:
        service.init_statutes(s, CLI_ACTOR, f.STATUTES, now=utcnow())
    with pytest.raises(DBAPIError, match="append-only"), database.unit_of_work() as s:
        s.execute(text("UPDATE governance_document SET body = '{}'"))
