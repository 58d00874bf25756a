"""Four eyes: committing a distribution and publishing the annual report need a second board
user. One asks, another approves (which commits or publishes), declines, or the asker
withdraws; what the request pinned must still hold; the ledger of record names both."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import col

from coop.db import Database
from coop.mail.messages import Letter, compose
from coop.mail.models import OutboxMessage
from coop.types import utcnow
from ledger import canonical, log
from tests import factories as f
from tests.conftest import Clock


def _events(database: Database, subject: str) -> list[tuple[str, str, dict[str, Any]]]:
    with database.unit_of_work(write=False) as s:
        return [(e.type, e.actor, canonical.loads(e.payload)) for e in log.events_of(s, subject)]


def _mails(database: Database) -> list[tuple[str, str, str]]:
    """The messages telling board members that a request waits: to whom, in which language, about what."""
    with database.unit_of_work(write=False) as s:
        rows = s.execute(select(OutboxMessage).where(col(OutboxMessage.kind) == "approval-waiting")).scalars()
        told = [(m.recipient, m.language, json.loads(m.context)) for m in rows]
    what = {"commit": "distribution", "publish": "report"}
    return [(to, lang, f"{what[c['what']]}:{c['number']}:{c['asker']}") for to, lang, c in told]


def _draft(client: TestClient, database: Database, clock: Clock) -> tuple[dict[str, str], dict[str, Any], int]:
    board, _people, permit_id = f.cooperative(client, database)
    f.money(client, board, permit_id, income=100_000, expense=10_000)
    clock.moment = f.AFTER
    d = client.post("/api/v1/distributions", json=f.PERIOD, headers=board)
    assert d.status_code == 201, d.text
    return board, d.json(), permit_id


def test_one_board_user_alone_cannot_commit_a_second_one_approves(
    client: TestClient, database: Database, clock: Clock
) -> None:
    chair, draft, _ = _draft(client, database, clock)
    treasurer = f.second_board(client, database)
    direct = client.post(f"/api/v1/distributions/{draft['id']}/commit", headers=chair)
    assert direct.status_code == 409 and direct.json()["code"] == "second-approval-needed"
    assert direct.headers["content-type"] == "application/problem+json"
    asked = client.post(f"/api/v1/distributions/{draft['id']}/commit-requests", headers=chair)
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert request["status"] == "waiting" and request["pinned"] == draft["digest"]
    assert _mails(database) == [(f.SECOND_BOARD_EMAIL, "nl", f"distribution:{draft['id']}:{f.BOARD_EMAIL}")]
    own = client.post(f"/api/v1/approvals/{request['id']}/approve", headers=chair)
    assert own.status_code == 403 and own.json()["code"] == "own-request"
    twice = client.post(f"/api/v1/distributions/{draft['id']}/commit-requests", headers=treasurer)
    assert twice.status_code == 409 and twice.json()["code"] == "approval-pending"
    assert client.get(f"/api/v1/distributions/{draft['id']}", headers=chair).json()["status"] == "draft"
    assert [r["id"] for r in client.get("/api/v1/approvals", headers=treasurer).json()] == [request["id"]]
    approved = client.post(f"/api/v1/approvals/{request['id']}/approve", headers=treasurer)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["approval"]["status"] == "approved" and body["distribution"]["status"] == "committed"
    assert f.balances(client, chair)["assets:bank"] == 90_000 - 3 * 15_000  # paid out
    again = client.post(f"/api/v1/approvals/{request['id']}/approve", headers=treasurer)
    assert again.status_code == 409 and again.json()["code"] == "approval-decided"
    asker, approver = body["approval"]["requested_by"], body["approval"]["decided_by"]
    assert asker != approver
    assert _events(database, f"approval:{request['id']}") == [
        (
            "approval.requested",
            asker,
            {"action": "distribution.commit", "target": f"distribution:{draft['id']}", "pinned": draft["digest"]},
        ),
        ("approval.approved", approver, {"action": "distribution.commit", "target": f"distribution:{draft['id']}"}),
    ]
    committed = [e for e in _events(database, f"distribution:{draft['id']}") if e[0] == "distribution.committed"]
    assert committed == [
        (
            "distribution.committed",
            approver,
            {"digest": draft["digest"], "approval": request["id"], "requested_by": asker, "approved_by": approver},
        )
    ]
    assert client.get("/api/v1/approvals", headers=treasurer).json() == []


def test_the_board_sees_every_waiting_request_on_one_page(client: TestClient, database: Database, clock: Clock) -> None:
    chair, draft, _ = _draft(client, database, clock)
    f.second_board(client, database)
    asked = client.post(f"/api/v1/distributions/{draft['id']}/commit-requests", headers=chair).json()
    f.portal_login(client, f.SECOND_BOARD_EMAIL)
    page = client.get("/board/approvals")
    assert page.status_code == 200
    assert f'href="/board/approvals/{asked["id"]}"' in page.text and f.BOARD_EMAIL in page.text
    assert f"Verdeling {draft['id']} uitbetalen" in page.text and 'href="/board/approvals"' in page.text  # in the menu
    treasurer = f.login(client, f.SECOND_BOARD_EMAIL)
    assert client.post(f"/api/v1/approvals/{asked['id']}/approve", headers=treasurer).status_code == 200
    after = client.get("/board/approvals")
    assert f"/board/approvals/{asked['id']}" not in after.text and "Er wacht niets op goedkeuring." in after.text


def test_a_request_is_withdrawn_by_its_asker_or_declined_by_another(
    client: TestClient, database: Database, clock: Clock
) -> None:
    chair, draft, _ = _draft(client, database, clock)
    treasurer = f.second_board(client, database)
    url = f"/api/v1/distributions/{draft['id']}/commit-requests"
    first = client.post(url, headers=chair).json()
    other = client.post(f"/api/v1/approvals/{first['id']}/withdraw", headers=treasurer)
    assert other.status_code == 403 and other.json()["code"] == "not-your-request"
    withdrawn = client.post(f"/api/v1/approvals/{first['id']}/withdraw", headers=chair)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    late = client.post(f"/api/v1/approvals/{first['id']}/approve", headers=treasurer)
    assert late.status_code == 409 and late.json()["code"] == "approval-decided"
    second = client.post(url, headers=chair).json()  # withdrawn: a new request may be made
    own = client.post(f"/api/v1/approvals/{second['id']}/decline", headers=chair)
    assert own.status_code == 403 and own.json()["code"] == "own-request"
    declined = client.post(f"/api/v1/approvals/{second['id']}/decline", headers=treasurer)
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert client.post(f"/api/v1/approvals/{second['id']}/approve", headers=treasurer).status_code == 409
    assert client.get(f"/api/v1/distributions/{draft['id']}", headers=chair).json()["status"] == "draft"
    types = [(t, a) for t, a, _ in _events(database, f"approval:{second['id']}")]
    assert types == [
        ("approval.requested", second["requested_by"]),
        ("approval.declined", declined.json()["decided_by"]),
    ]
    assert client.get("/api/v1/approvals/999", headers=chair).json()["code"] == "approval-not-found"


def test_a_draft_that_no_longer_holds_is_not_approved(client: TestClient, database: Database, clock: Clock) -> None:
    chair, draft, permit_id = _draft(client, database, clock)
    treasurer = f.second_board(client, database)
    request = client.post(f"/api/v1/distributions/{draft['id']}/commit-requests", headers=chair).json()
    late = {"id": "late-fee", "received_on": f.BOOKED, "amount_cents": 777, "kind": "fee"}
    assert client.post(f"/api/v1/permits/{permit_id}/payments", json=late, headers=chair).status_code == 201
    stale = client.post(f"/api/v1/approvals/{request['id']}/approve", headers=treasurer)
    assert stale.status_code == 409 and stale.json()["code"] == "draft-stale"
    assert client.get(f"/api/v1/approvals/{request['id']}", headers=chair).json()["status"] == "waiting"
    assert client.get(f"/api/v1/distributions/{draft['id']}", headers=chair).json()["status"] == "draft"
    refused = client.post(f"/api/v1/distributions/{draft['id']}/commit-requests", headers=treasurer)
    assert refused.status_code == 409 and refused.json()["code"] == "draft-stale"  # asking checks the draft too


def test_only_board_users_who_log_in_ask_and_decide(client: TestClient, database: Database, clock: Clock) -> None:
    _chair, draft, _ = _draft(client, database, clock)
    member = f.member(client, f.board(client, database))
    url = f"/api/v1/distributions/{draft['id']}/commit-requests"
    assert client.post(url, headers=member.headers).status_code == 403
    assert client.post(url, headers=f.api_key(database, "auditor")).status_code == 403
    assert client.post(url).status_code == 401
    assert client.post("/api/v1/distributions/999/commit-requests", headers=_chair).status_code == 404


def test_publishing_the_annual_report_needs_a_second_board_user(
    client: TestClient, database: Database, clock: Clock
) -> None:
    chair, _draft_, permit_id = _draft(client, database, clock)
    treasurer = f.second_board(client, database)
    assert f.commit(client, database, chair, _draft_["id"]).status_code == 200
    client.get("/api/v1/ledger/tree-head")
    direct = client.post(f"/api/v1/reports/annual/{f.YEAR}/publish", params={"lang": "en"}, headers=chair)
    assert direct.status_code == 409 and direct.json()["code"] == "second-approval-needed"
    url = f"/api/v1/reports/annual/{f.YEAR}/publish-requests"
    assert client.post(url, json={"languages": []}, headers=chair).status_code == 422
    request = client.post(url, headers=chair).json()  # every language by default
    assert request["languages"] == ["en", "nl"] and request["year"] == f.YEAR
    hdab = f.api_key(database, "hdab")
    result = {"kind": "publication", "title": "A late paper", "url": "https://example.org/late"}
    result |= {"published_at": f"{f.YEAR}-12-01T12:00:00+00:00", "open_access": True}
    assert client.post(f"/api/v1/permits/{permit_id}/results", json=result, headers=hdab).status_code == 201
    stale = client.post(f"/api/v1/approvals/{request['id']}/approve", headers=treasurer)
    assert stale.status_code == 409 and stale.json()["code"] == "approval-stale"  # the figures changed
    assert client.post(f"/api/v1/approvals/{request['id']}/decline", headers=treasurer).status_code == 200
    fresh = client.post(url, json={"languages": ["nl", "en"]}, headers=chair).json()
    approved = client.post(f"/api/v1/approvals/{fresh['id']}/approve", headers=treasurer)
    assert approved.status_code == 200, approved.text
    published = approved.json()["published"]
    assert [p["lang"] for p in published] == ["en", "nl"]
    for record in published:
        events = _events(database, f"report:annual:{f.YEAR}:{record['lang']}")
        (_type, actor, payload) = events[-1]
        assert payload["sha256"] == record["sha256"] and payload["approval"] == fresh["id"]
        assert payload["requested_by"] == fresh["requested_by"] != payload["approved_by"] == actor


def test_the_other_board_members_are_mailed_in_their_language(
    client: TestClient, database: Database, clock: Clock
) -> None:
    chair, draft, _ = _draft(client, database, clock)
    f.second_board(client, database)
    request = client.post(f"/api/v1/distributions/{draft['id']}/commit-requests", headers=chair).json()
    with database.unit_of_work(write=False) as s:
        (row,) = s.execute(select(OutboxMessage).where(col(OutboxMessage.kind) == "approval-waiting")).scalars()
    assert row.id is not None
    letter = Letter(row.id, row.message_id, row.kind, row.recipient, row.language, row.context, 0)
    message = compose(letter, database.settings.mail, utcnow(), b"key")
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert message["Subject"] == "Een verzoek wacht op uw goedkeuring" and message["To"] == f.SECOND_BOARD_EMAIL
    assert f"{f.BOARD_EMAIL} vraagt een tweede bestuurslid om verdeling {draft['id']} vast te stellen" in text
    assert f"/board/approvals/{request['id']}" in text
