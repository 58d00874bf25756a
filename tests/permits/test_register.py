"""The permit register: Art. 68 limits, idempotent registration, one extension,
revocation, derived status and duties, and who may see a permit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from coop.db import Database
from coop.permits import rules
from coop.types import utcnow
from ledger import log
from tests import factories as f

URL = "/api/v1/permits"


def test_register_and_derived_duties(client: TestClient, database: Database) -> None:
    hdab = f.api_key(database, "hdab")
    r = client.post(URL, json=f.permit_body(), headers=hdab)
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["status"] == "active" and p["processing_ends"] == p["valid_until"]
    end = datetime.fromisoformat(p["valid_until"])
    assert datetime.fromisoformat(p["results_due"]) == rules.add_months(end, 18)
    assert datetime.fromisoformat(p["deletion_due"]) == rules.add_months(end, 6)
    future = client.post(
        URL,
        json=f.permit_body(permit_number="P-2", valid_from=(utcnow() + timedelta(days=5)).isoformat()),
        headers=hdab,
    )
    assert future.json()["status"] == "granted"
    with database.unit_of_work(write=False) as s:
        assert [e.type for e in log.events_after(s, 0, 100)].count("permit.registered") == 2


def test_registration_is_idempotent_on_the_number(client: TestClient, database: Database) -> None:
    hdab = f.api_key(database, "hdab")
    body = f.permit_body()
    first = client.post(URL, json=body, headers=hdab)
    again = client.post(URL, json=body, headers=hdab)
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    other = client.post(URL, json={**body, "fee_cents": 1, "applicant": "Someone else"}, headers=hdab)
    assert other.status_code == 409 and other.json()["fields"] == ["applicant", "fee_cents"]


def test_a_permit_sent_again_with_dutch_offsets_is_the_same_permit(client: TestClient, database: Database) -> None:
    hdab = f.api_key(database, "hdab")
    dutch = ZoneInfo("Europe/Amsterdam")
    moments = ("approved_at", "valid_from", "valid_until")
    body = f.permit_body(permit_number="NL-OFFSET-1")
    body |= {k: datetime.fromisoformat(body[k]).astimezone(dutch).isoformat() for k in moments}
    assert "+01:00" in body["approved_at"] or "+02:00" in body["approved_at"]
    first = client.post(URL, json=body, headers=hdab)
    again = client.post(URL, json=body, headers=hdab)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    in_utc = {**body, **{k: datetime.fromisoformat(body[k]).astimezone(UTC).isoformat() for k in moments}}
    assert client.post(URL, json=in_utc, headers=hdab).status_code == 200, "the same instants, written in UTC"


def test_art_68_limits_and_bad_input(client: TestClient, database: Database) -> None:
    hdab = f.api_key(database, "hdab")
    now = utcnow()
    for bad, code in (
        ({"valid_until": (now + timedelta(days=3653 + 2)).isoformat()}, "too-long"),
        ({"valid_until": (now - timedelta(days=2)).isoformat()}, "invalid-validity"),
        ({"user_type": "commercial", "purposes": ["statistics"]}, "public-sector-only"),
        ({"consultation_id": 999}, "consultation-not-found"),
    ):
        r = client.post(URL, json=f.permit_body(**bad), headers=hdab)
        assert r.status_code == 422 and r.json()["code"] == code, (bad, r.text)
    for bad in (
        {"purposes": ["advertising"]},
        {"fee_cents": -5},
        {"fee_cents": 12.5},
        {"permit_number": "a b"},
        {"x": 1},
    ):
        assert client.post(URL, json=f.permit_body(**bad), headers=hdab).status_code == 422, bad


def test_one_extension_of_at_most_ten_years(client: TestClient, database: Database) -> None:
    hdab = f.api_key(database, "hdab")
    p = client.post(URL, json=f.permit_body(), headers=hdab).json()
    end = datetime.fromisoformat(p["valid_until"])
    too_far = client.post(
        f"{URL}/{p['id']}/extend", json={"valid_until": (end + timedelta(days=3660)).isoformat()}, headers=hdab
    )
    assert too_far.status_code == 422 and too_far.json()["code"] == "too-long"
    new_end = (end + timedelta(days=365)).isoformat()
    ok = client.post(f"{URL}/{p['id']}/extend", json={"valid_until": new_end}, headers=hdab)
    assert ok.status_code == 200 and ok.json()["processing_ends"] == ok.json()["extended_until"]
    assert client.post(f"{URL}/{p['id']}/extend", json={"valid_until": new_end}, headers=hdab).status_code == 200
    twice = client.post(
        f"{URL}/{p['id']}/extend", json={"valid_until": (end + timedelta(days=700)).isoformat()}, headers=hdab
    )
    assert twice.status_code == 409 and twice.json()["code"] == "already-extended"


def test_revocation_ends_processing(client: TestClient, database: Database) -> None:
    hdab = f.api_key(database, "hdab")
    p = client.post(URL, json=f.permit_body(), headers=hdab).json()
    r = client.post(f"{URL}/{p['id']}/revoke", json={"reason": "breach of conditions"}, headers=hdab)
    again = client.post(f"{URL}/{p['id']}/revoke", json={"reason": "another reason"}, headers=hdab)
    assert r.json()["status"] == "revoked" and again.json()["revoked_at"] == r.json()["revoked_at"]
    assert again.json()["revocation_reason"] == "breach of conditions"
    assert r.json()["processing_ends"] == r.json()["revoked_at"]
    late = client.post(
        f"{URL}/{p['id']}/extend", json={"valid_until": (utcnow() + timedelta(days=4000)).isoformat()}, headers=hdab
    )
    assert late.status_code == 409


def test_who_sees_a_permit(client: TestClient, database: Database) -> None:
    hdab = f.api_key(database, "hdab")
    p = client.post(URL, json=f.permit_body(), headers=hdab).json()
    party = f.api_key(database, "data_holder", org="SPE Nederland")
    stranger = f.api_key(database, "data_holder", org="Other SPE")
    assert client.get(f"{URL}/{p['id']}", headers=party).status_code == 200
    assert client.get(f"{URL}/{p['id']}", headers=stranger).status_code == 404
    assert client.get(URL, headers=stranger).json() == []
    other = client.post(URL, json=f.permit_body(permit_number="P-2", data_holders=["Other SPE"]), headers=hdab).json()
    assert [x["id"] for x in client.get(URL, headers=party).json()] == [p["id"]]  # filtered in the database
    assert [x["id"] for x in client.get(URL, headers=stranger).json()] == [other["id"]]
    for near in ("SPE", "SPE%", "_PE Nederland", "Nederland"):  # part of a name, or a pattern, is not the name
        assert client.get(URL, headers=f.api_key(database, "data_holder", org=near)).json() == [], near
    assert len(client.get(URL, headers=hdab).json()) == 2
    assert client.get(f"{URL}/{p['id']}", headers=f.api_key(database, "auditor")).status_code == 200
    m = f.member(client, f.board(client, database))
    assert client.get(f"{URL}/{p['id']}", headers=m.headers).status_code == 404
    assert client.post(URL, json=f.permit_body(permit_number="X-1"), headers=m.headers).status_code == 403
    assert client.post(URL, json=f.permit_body(permit_number="X-1"), headers=party).status_code == 403


def test_contents_cannot_be_rewritten(client: TestClient, database: Database) -> None:
    client.post(URL, json=f.permit_body(), headers=f.api_key(database, "hdab"))
    with pytest.raises(DBAPIError, match="written once"), database.unit_of_work() as s:
        s.execute(text("UPDATE permit SET fee_cents = 0"))


def test_month_arithmetic() -> None:
    assert rules.add_months(datetime(2026, 8, 31, tzinfo=UTC), 18) == datetime(2028, 2, 29, tzinfo=UTC)
    assert rules.add_months(datetime(2026, 1, 15, tzinfo=UTC), 6) == datetime(2026, 7, 15, tzinfo=UTC)
