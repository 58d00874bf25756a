"""Usage, results and computed compliance flags, each naming its rule and events."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from coop.db import Database
from coop.permits import usage
from coop.permits.models import Manifest, ManifestCheck, ManifestEntry, Permit, Result
from coop.types import utcnow
from tests import factories as f
from tests import pdfs


def _flags(client: TestClient, headers: dict, permit_id: int) -> dict[str, list[int]]:
    body = client.get(f"/api/v1/permits/{permit_id}/compliance", headers=headers).json()
    assert body["compliant"] == (not body["flags"])
    return {flag["rule"]: flag["events"] for flag in body["flags"]}


def test_clean_use_is_compliant(client: TestClient, database: Database) -> None:
    hdab, permit, _ = f.registered(client, database)
    spe = f.api_key(database, "data_holder", org="SPE Nederland")
    manifest = client.post(f"/api/v1/permits/{permit['id']}/manifests", headers=hdab).json()
    at = utcnow().isoformat()
    extraction = {"kind": "extraction", "manifest_id": manifest["id"], "records": 3, "id": "ext-1", "occurred_at": at}
    assert f.report_usage(client, spe, permit["id"], **extraction).status_code == 201
    assert f.report_usage(client, spe, permit["id"], **extraction).status_code == 200  # a retry
    differs = f.report_usage(client, spe, permit["id"], **{**extraction, "records": 4})
    assert differs.status_code == 409 and differs.json()["fields"] == ["records"]
    f.report_usage(client, spe, permit["id"], kind="access", description="session in the SPE")
    assert _flags(client, hdab, permit["id"]) == {}


def test_breaches_are_flagged_with_their_events(client: TestClient, database: Database) -> None:
    hdab, permit, _people = f.registered(client, database)
    spe = f.api_key(database, "data_holder", org="SPE Nederland")
    before = (utcnow() - timedelta(days=2)).isoformat()
    early = f.report_usage(client, spe, permit["id"], kind="access", occurred_at=before).json()
    incident = f.report_usage(client, spe, permit["id"], kind="incident", description="laptop lost").json()
    other = client.post(
        "/api/v1/permits", json=f.permit_body(permit_number="OTHER-1", approved_at=utcnow().isoformat()), headers=hdab
    ).json()
    foreign_manifest = client.post(f"/api/v1/permits/{other['id']}/manifests", headers=hdab).json()
    foreign = f.report_usage(
        client, spe, permit["id"], kind="extraction", manifest_id=foreign_manifest["id"], records=1
    ).json()
    flags = _flags(client, hdab, permit["id"])
    assert flags["use-before-validity"] == [early["id"]]
    assert flags["incident"] == [incident["id"]]
    assert flags["foreign-manifest"] == [foreign["id"]]
    client.post(f"/api/v1/permits/{permit['id']}/revoke", json={"reason": "incident"}, headers=hdab)
    after = f.report_usage(client, spe, permit["id"], kind="output", description="table exported").json()
    assert _flags(client, hdab, permit["id"])["use-after-revocation"] == [after["id"]]


def test_a_manifest_with_ineligible_members_is_flagged(client: TestClient, database: Database) -> None:
    hdab, _permit, people = f.registered(client, database)
    client.patch(f"/api/v1/members/{people[0].id}/choices", json={"opt_out": True}, headers=people[0].headers)
    later = client.post(
        "/api/v1/permits", json=f.permit_body(permit_number="LATER-1", approved_at=utcnow().isoformat()), headers=hdab
    ).json()
    # a manifest smuggled in for the later permit that still includes the member who opted out
    with database.unit_of_work() as s:
        from ledger import merkle

        bad = Manifest(
            permit_id=later["id"],
            as_of=utcnow(),
            size=1,
            root_hash=merkle.EMPTY_ROOT,
            created_by="cli",
            created_at=utcnow(),
            ledger_seq=1,
        )
        s.add(bad)
        s.flush()
        s.execute(
            insert(ManifestEntry), [{"manifest_id": bad.id, "member_id": people[0].id, "pseudonym": b"\x01" * 32}]
        )
        bad_id = bad.id
    spe = f.api_key(database, "data_holder", org="SPE Nederland")
    extraction = f.report_usage(client, spe, later["id"], kind="extraction", manifest_id=bad_id, records=1).json()
    assert _flags(client, hdab, later["id"])["ineligible-members"] == [extraction["id"]]
    with database.unit_of_work(write=False) as s:  # checked once, at the extraction, and kept
        check = s.get(ManifestCheck, bad_id)
        assert check is not None and check.ineligible == 1


def test_overdue_deletion_and_results(client: TestClient, database: Database) -> None:
    f.registered(client, database)
    hdab = f.api_key(database, "hdab")
    long_ago = utcnow() - timedelta(days=3 * 365)
    old = client.post(
        "/api/v1/permits",
        json=f.permit_body(
            permit_number="OLD-2",
            approved_at=long_ago.isoformat(),
            valid_from=long_ago.isoformat(),
            valid_until=(long_ago + timedelta(days=365)).isoformat(),
        ),
        headers=hdab,
    ).json()
    assert set(_flags(client, hdab, old["id"])) == {"deletion-overdue", "results-overdue"}
    r = client.post(
        f"/api/v1/permits/{old['id']}/results",
        json={
            "kind": "publication",
            "title": "Heart failure outcomes",
            "url": "doi:10.1000/xyz123",
            "published_at": utcnow().isoformat(),
            "open_access": True,
        },
        headers=hdab,
    )
    assert r.status_code == 201
    assert set(_flags(client, hdab, old["id"])) == {"deletion-overdue"}


def test_results_reach_the_members_data_use(client: TestClient, database: Database) -> None:
    hdab, permit, people = f.registered(client, database, members=1)
    client.post(f"/api/v1/permits/{permit['id']}/manifests", headers=hdab)
    client.post(
        f"/api/v1/permits/{permit['id']}/results",
        json={
            "kind": "dataset",
            "title": "Open cohort statistics",
            "url": "https://example.org/data",
            "published_at": utcnow().isoformat(),
            "open_access": True,
        },
        headers=hdab,
    )
    used = client.get(f"/api/v1/members/{people[0].id}/data-use", headers=people[0].headers).json()
    assert [r["title"] for r in used[0]["results"]] == ["Open cohort statistics"]


def test_who_reports_and_bad_usage(client: TestClient, database: Database) -> None:
    hdab, permit, people = f.registered(client, database, members=1)
    stranger = f.api_key(database, "data_holder", org="Elsewhere")
    assert f.report_usage(client, stranger, permit["id"], kind="access").status_code == 404
    assert f.report_usage(client, people[0].headers, permit["id"], kind="access").status_code == 404
    spe = f.api_key(database, "data_holder", org="SPE Nederland")
    assert f.report_usage(client, spe, permit["id"], kind="extraction").json()["code"] == "extraction-incomplete"
    assert (
        f.report_usage(client, spe, permit["id"], kind="extraction", manifest_id=999, records=1).json()["code"]
        == "manifest-not-found"
    )
    assert f.report_usage(client, spe, permit["id"], kind="party").status_code == 422
    assert (
        f.report_usage(
            client, spe, permit["id"], kind="access", occurred_at=(utcnow() + timedelta(days=1)).isoformat()
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/v1/permits/{permit['id']}/results",
            json={
                "kind": "publication",
                "title": "x",
                "url": "ftp://x",
                "published_at": utcnow().isoformat(),
                "open_access": True,
            },
            headers=hdab,
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/v1/permits/{permit['id']}/results",
            json={
                "kind": "publication",
                "title": "x",
                "url": "https://x.org",
                "published_at": utcnow().isoformat(),
                "open_access": True,
            },
            headers=spe,
        ).status_code
        == 403
    )


def test_a_result_comes_after_its_permit(client: TestClient, database: Database) -> None:
    hdab, permit, _ = f.registered(client, database, members=1)
    approved = datetime.fromisoformat(permit["approved_at"])
    result = {
        "kind": "publication",
        "title": "Written before the permit",
        "url": "https://example.org/old-paper",
        "published_at": (approved - timedelta(days=1)).isoformat(),
        "open_access": True,
    }
    early = client.post(f"/api/v1/permits/{permit['id']}/results", json=result, headers=hdab)
    assert early.status_code == 422 and early.json()["code"] == "result-before-permit"
    assert early.json()["field"] == "published_at"
    with database.unit_of_work(write=False) as s:
        assert s.execute(select(func.count()).select_from(Result)).scalar_one() == 0  # nothing recorded
    result["published_at"] = approved.isoformat()
    assert client.post(f"/api/v1/permits/{permit['id']}/results", json=result, headers=hdab).status_code == 201


def test_a_permit_revoked_before_it_started_owes_no_results(client: TestClient, database: Database) -> None:
    f.registered(client, database, members=1)
    hdab = f.api_key(database, "hdab")
    later = (utcnow() + timedelta(days=30)).isoformat()
    never = client.post("/api/v1/permits", json=f.permit_body(permit_number="NEVER-1", valid_from=later), headers=hdab)
    started = client.post("/api/v1/permits", json=f.permit_body(permit_number="STARTED-1"), headers=hdab)
    for p in (never.json(), started.json()):
        assert client.post(f"/api/v1/permits/{p['id']}/revoke", json={"reason": "withdrawn"}, headers=hdab).is_success
    never_out = client.get(f"/api/v1/permits/{never.json()['id']}", headers=hdab).json()
    started_out = client.get(f"/api/v1/permits/{started.json()['id']}", headers=hdab).json()
    assert never_out["results_due"] is None and never_out["deletion_due"] is not None
    assert started_out["results_due"] is not None
    years_later = utcnow() + timedelta(days=3 * 365)
    with database.unit_of_work(write=False) as s:
        rules = {
            number: {flag.rule for flag in usage.compliance(s, permit, database.settings, years_later)}
            for number, permit in (
                ("never", s.get(Permit, never.json()["id"])),
                ("started", s.get(Permit, started.json()["id"])),
            )
        }
    assert "results-overdue" not in rules["never"] and "results-overdue" in rules["started"]


def test_flags_are_told_in_words_on_the_public_page_and_in_the_report(client: TestClient, database: Database) -> None:
    hdab, permit, _people = f.registered(client, database)
    spe = f.api_key(database, "data_holder", org="SPE Nederland")
    f.report_usage(client, spe, permit["id"], kind="access", occurred_at=(utcnow() - timedelta(days=2)).isoformat())
    f.report_usage(client, spe, permit["id"], kind="incident", description="laptop lost")
    assert set(_flags(client, hdab, permit["id"])) == {"use-before-validity", "incident"}
    for lang, phrases in (
        ("nl", ["gebruikt voordat de vergunning gold", "incident gemeld"]),
        ("en", ["used before the permit was valid", "incident reported"]),
    ):
        page = client.get("/api/v1/public/transparency.html", params={"lang": lang}).text
        board = f.board(client, database)
        report = pdfs.text(
            client.get(f"/api/v1/reports/annual/{utcnow().year}.pdf", params={"lang": lang}, headers=board).content
        )
        for phrase in phrases:
            assert phrase in page and phrase in report, (lang, phrase)
        assert "use-before-validity" not in page and "use-before-validity" not in report


def test_hdab_messages_keep_ai_in_capitals(client: TestClient, database: Database) -> None:
    f.registered(client, database, members=1)
    hdab = f.api_key(database, "hdab")
    body = {
        "application_ref": "HDAB-AI-1",
        "applicant": "Universiteit Utrecht",
        "user_type": "academic",
        "purposes": ["ai-training"],
        "categories": ["ehr"],
        "duration_months": 12,
        "offered_benefit_share_pct": 10,
        "open_results": True,
        "processing_in_eu": True,
        "ethics_review_approved": True,
        "expected_benefit": "Better triage",
    }
    answer = client.post("/api/v1/hdab/consultations", json=body, headers=hdab).json()
    messages = " ".join(r["message"] for r in answer["reasons"])
    assert "testing of AI" in messages and " ai" not in messages, messages
