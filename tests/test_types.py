"""The shared input types, through every route that uses them: times and dates outside the
documented range, member numbers beyond any id, invisible formatting characters in text, and
links that are not real web addresses are refused with a 422 naming the field (never a 500),
and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from coop.db import Database
from coop.types import utcnow
from ledger import log
from tests import factories as f

TIMES_OUTSIDE = [
    "0001-01-01T00:00:00+01:00",  # year 0 in UTC: past Python's own limit
    "9999-12-31T23:59:59-01:00",  # year 10000 in UTC
    "1899-12-31T23:59:59Z",
    "1900-01-01T00:30:00+01:00",  # 1899 in UTC
    "3000-01-01T00:00:00Z",
    "2999-12-31T23:30:00-01:00",  # 3000 in UTC
]
DAYS_OUTSIDE = ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"]


def _events(database: Database) -> int:
    with database.unit_of_work(write=False) as s:
        return log.tree_size(s)


def _refused(response: Response, field: str) -> None:
    what = f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text[:300]}"
    assert response.status_code == 422, what
    assert response.headers["content-type"] == "application/problem+json", what
    assert any(e["loc"][-1] == field for e in response.json()["errors"]), what


def _cooperative(client: TestClient, database: Database) -> tuple[dict[str, str], dict[str, str], f.MemberHandle]:
    f.statutes(database)
    board = f.board(client, database)
    return board, f.api_key(database, "hdab"), f.member(client, board)


def test_times_outside_the_range_are_refused_everywhere(client: TestClient, database: Database) -> None:
    board, hdab, anna = _cooperative(client, database)
    permit = client.post("/api/v1/permits", json=f.permit_body(), headers=hdab).json()
    bram = f.member(client, board)
    before = _events(database)
    now = datetime.now(UTC)
    for at in TIMES_OUTSIDE:
        _refused(client.get("/api/v1/mandate", params={"at": at}), "at")  # public
        _refused(client.get("/api/v1/benefit-policy", params={"at": at}), "at")  # public
        effective = {"purpose": "research", "user_type": "academic", "at": at}
        _refused(client.get(f"/api/v1/members/{anna.id}/effective", params=effective, headers=anna.headers), "at")
        for field in ("approved_at", "valid_from", "valid_until"):
            body = f.permit_body(permit_number="NL-EDGE-1", **{field: at})
            _refused(client.post("/api/v1/permits", json=body, headers=hdab), field)
        _refused(
            client.post(f"/api/v1/permits/{permit['id']}/extend", json={"valid_until": at}, headers=hdab),
            "valid_until",
        )
        usage = {"kind": "access", "occurred_at": at, "description": "a session"}
        _refused(client.post(f"/api/v1/permits/{permit['id']}/usage", json=usage, headers=hdab), "occurred_at")
        result = {
            "kind": "publication",
            "title": "Heart failure outcomes",
            "url": "https://example.org/paper",
            "published_at": at,
            "open_access": True,
        }
        _refused(client.post(f"/api/v1/permits/{permit['id']}/results", json=result, headers=hdab), "published_at")
        window = {"opens_at": now.isoformat(), "closes_at": (now + timedelta(days=7)).isoformat()}
        for field in ("opens_at", "closes_at"):
            proposal = {
                "title": "A new mandate",
                "kind": "mandate",
                "body": {},
                "quorum_pct": 10,
                "majority_pct": 50,
                **window,
                field: at,
            }
            _refused(client.post("/api/v1/governance/proposals", json=proposal, headers=board), field)
        proxy = {"proxy_member_id": bram.id, "valid_until": at}
        _refused(client.post(f"/api/v1/members/{anna.id}/proxies", json=proxy, headers=anna.headers), "valid_until")
    assert _events(database) == before


def test_the_range_ends_are_accepted(client: TestClient, database: Database) -> None:
    _cooperative(client, database)
    assert client.get("/api/v1/mandate", params={"at": "2999-12-31T23:59:59Z"}).status_code == 200
    assert client.get("/api/v1/mandate", params={"at": "2999-12-31T23:59:59.999999Z"}).status_code == 200
    earliest = client.get("/api/v1/mandate", params={"at": "1900-01-01T01:00:00+01:00"})
    assert earliest.status_code == 404 and earliest.json()["code"] == "no-mandate"  # valid, and nothing was in force


def test_dates_outside_the_range_are_refused_everywhere(client: TestClient, database: Database) -> None:
    board, hdab, _anna = _cooperative(client, database)
    permit = client.post("/api/v1/permits", json=f.permit_body(), headers=hdab).json()
    before = _events(database)
    for day in DAYS_OUTSIDE:
        payment = {"id": "pay-edge", "received_on": day, "amount_cents": 100, "kind": "fee"}
        _refused(client.post(f"/api/v1/permits/{permit['id']}/payments", json=payment, headers=board), "received_on")
        expense = {"id": "exp-edge", "paid_on": day, "amount_cents": 100, "description": "hosting"}
        _refused(client.post("/api/v1/expenses", json=expense, headers=board), "paid_on")
        grant = {"id": "grant-edge", "paid_on": day, "amount_cents": 1, "recipient": "A foundation", "purpose": "care"}
        _refused(client.post("/api/v1/solidarity/grants", json=grant, headers=board), "paid_on")
        _refused(client.get("/api/v1/ledger/balances", params={"at": day}, headers=board), "at")
        for field in ("period_start", "period_end"):
            period = {"period_start": "2025-01-01", "period_end": "2025-12-31", field: day}
            _refused(client.post("/api/v1/distributions", json=period, headers=board), field)
    assert _events(database) == before


@pytest.mark.parametrize("number", ["M-999999999999999999999", "M-2147483648", "M-0", "M-²", "M-\uff11\uff12"])
def test_a_member_number_beyond_any_id_finds_nobody(client: TestClient, database: Database, number: str) -> None:
    board = f.board(client, database)
    f.admit(client, board, name="Anna de Vries")
    found = client.get("/api/v1/members", params={"q": number}, headers=board)
    assert found.status_code == 200, found.text
    assert found.json()["total"] == 0


@pytest.mark.parametrize(
    "character",
    [
        "\u202e",  # right-to-left override: "Anna\u202eseirV" reads as something else
        "\u202a",
        "\u2066",  # left-to-right isolate
        "\u2069",
        "\u200b",  # zero-width space
        "\u200f",  # right-to-left mark
        "\ufeff",
        "\u0085",  # a C1 control
        "\u2028",  # line separator
        "\x00",
    ],
)
def test_invisible_formatting_characters_are_refused_in_free_text(
    client: TestClient, database: Database, character: str
) -> None:
    board, hdab, _anna = _cooperative(client, database)
    before = _events(database)
    name = f"Anna{character}de Vries"
    _refused(client.post("/api/v1/members", json={"name": name, "email": "anna@coop-test.nl"}, headers=board), "name")
    _refused(client.post("/api/v1/permits", json=f.permit_body(applicant=name), headers=hdab), "applicant")
    consultation = f.application(applicant=name)
    _refused(client.post("/api/v1/hdab/consultations", json=consultation, headers=hdab), "applicant")
    expense = {"id": "exp-1", "paid_on": "2025-01-01", "amount_cents": 100, "description": name}
    _refused(client.post("/api/v1/expenses", json=expense, headers=board), "description")
    assert _events(database) == before


def test_names_in_every_script_are_welcome(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    names = ("Zoë Çelik-Ødegård", "محمد الأحمد", "مهرداد\u200cنیک", "Дмитрий", "ศรีสุข")  # \u200c: Persian writes it
    for i, name in enumerate(names):
        r = client.post("/api/v1/members", json={"name": name, "email": f"m{i}@coop-test.nl"}, headers=board)
        assert r.status_code == 201 and r.json()["member"]["name"] == name, r.text


@pytest.mark.parametrize(
    "url",
    [
        "https://[",
        "https://",
        "https://localhost/paper",
        "https://example",
        "https://10.0.0.1/paper",
        "https://[::1]/paper",
        "https://-example-.org/paper",
        "https://example.org:99999/paper",
        "https://user:secret@example.org/paper",
        "https://example.org\u202e/repap",
        "doi:x",
        "ftp://example.org/paper",
    ],
)
def test_a_result_link_must_be_a_real_web_address_or_doi(client: TestClient, database: Database, url: str) -> None:
    _board, hdab, _anna = _cooperative(client, database)
    permit = client.post("/api/v1/permits", json=f.permit_body(), headers=hdab).json()
    before = _events(database)
    result = {
        "kind": "publication",
        "title": "Heart failure outcomes",
        "url": url,
        "published_at": utcnow().isoformat(),
        "open_access": True,
    }
    _refused(client.post(f"/api/v1/permits/{permit['id']}/results", json=result, headers=hdab), "url")
    assert _events(database) == before


def test_real_links_are_accepted(client: TestClient, database: Database) -> None:
    _board, hdab, _anna = _cooperative(client, database)
    permit = client.post("/api/v1/permits", json=f.permit_body(), headers=hdab).json()
    for url in ("https://example.org/paper?id=1#results", "http://data.example.nl:8080/set", "doi:10.1000/182"):
        result = {
            "kind": "dataset",
            "title": "A dataset",
            "url": url,
            "published_at": utcnow().isoformat(),
            "open_access": True,
        }
        r = client.post(f"/api/v1/permits/{permit['id']}/results", json=result, headers=hdab)
        assert r.status_code == 201 and r.json()["url"] == url, r.text


def test_the_types_alone() -> None:
    from pydantic import TypeAdapter, ValidationError

    from coop.types import Day, Time, web_url

    times: TypeAdapter[Any] = TypeAdapter(Time)
    days: TypeAdapter[Any] = TypeAdapter(Day)
    assert times.validate_python("1900-01-01T00:00:00Z") == datetime(1900, 1, 1, tzinfo=UTC)
    for value in ("1900-01-01T00:00:00", *TIMES_OUTSIDE):  # a time without offset is refused too
        with pytest.raises(ValidationError):
            times.validate_python(value)
    for value in DAYS_OUTSIDE:
        with pytest.raises(ValidationError):
            days.validate_python(value)
    assert web_url("https://bücher.example/") == "https://bücher.example/"  # internationalised names are real
