"""Many clients at the same moment, on both engines: money never goes below zero, an
idempotency key or a unique value sent by many clients at once gives the original or a
409 (never a 500), shared accounts open once, and proxies appointing each other at once
give one appointment and one refusal. The ledger of record verifies afterwards."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime, timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import col

from coop.auth.models import UserAccount
from coop.auth.policy import CLI_ACTOR, Role
from coop.auth.service import create_account
from coop.db import Database
from coop.mail.models import MailKind, OutboxMessage
from coop.members.models import Member
from coop.types import utcnow
from ledger import log
from ledger.verify import verify
from tests import factories as f
from tests.concurrency.conftest import CROWD, crowd, statuses
from tests.conftest import Clock
from tests.factories import services


def _verified(database: Database) -> None:
    with database.unit_of_work(write=False) as s:
        report = verify(s.connection(), {database.signer.key_id: database.signer.public_key})
    assert report.ok, report.problems


def _balances(client: TestClient, board: dict[str, str]) -> dict[str, int]:
    body = client.get("/api/v1/ledger/balances", headers=board).json()
    assert body["debits_equal_credits"]
    return {a["account"]: a["balance_cents"] for a in body["accounts"]}


def _board_users(client: TestClient, database: Database, n: int) -> list[dict[str, str]]:
    """Headers of ``n`` board users other than the first."""
    headers = []
    with database.unit_of_work() as session:
        for i in range(n):
            user = create_account(
                session,
                CLI_ACTOR,
                database.settings.auth,
                f"board{i}@crowd.nl",
                f.PASSWORD,
                Role.board,
                None,
                now=utcnow(),
            )
            headers.append(f.bearer(services.login_token(client, session, user)))
    return headers


def _codes(responses: list[httpx.Response]) -> Counter[str]:
    return Counter(r.json().get("code", "") for r in responses if r.status_code >= 400)


def test_grants_at_once_never_overdraw_the_fund(
    client: TestClient, database: Database, live_server: str, clock: Clock
) -> None:
    board, _people, permit_id = f.cooperative(client, database)
    f.money(client, board, permit_id, income=100_000, expense=10_000)
    clock.moment = f.AFTER
    draft = client.post("/api/v1/distributions", json=f.PERIOD, headers=board).json()
    assert f.commit(client, database, board, draft["id"]).status_code == 200
    fund = _balances(client, board)["equity:solidarity-fund"]
    assert fund == 27_000  # nobody donates: the fund holds its policy share only
    each = fund // 3  # exactly three grants fit

    def grant(http: httpx.Client, i: int) -> httpx.Response:
        body = {"id": f"g-{i}", "paid_on": f"{f.NEXT}-01-02", "amount_cents": each, "recipient": "R", "purpose": "p"}
        return http.post("/api/v1/solidarity/grants", json=body, headers=board)

    responses = crowd(live_server, grant)
    assert statuses(responses) == [201] * 3 + [409] * (CROWD - 3)
    assert _codes(responses) == {"insufficient-funds": CROWD - 3}
    after = _balances(client, board)
    assert after["equity:solidarity-fund"] == fund - 3 * each >= 0 and after["assets:bank"] >= 0
    _verified(database)


def test_expenses_at_once_never_overdraw_the_bank(client: TestClient, database: Database, live_server: str) -> None:
    board = f.board(client, database)
    permit = client.post("/api/v1/permits", json=f.permit_body(), headers=f.api_key(database, "hdab")).json()
    pay = {"id": "inv-1", "received_on": "2026-03-01", "amount_cents": 100_000, "kind": "fee"}
    assert client.post(f"/api/v1/permits/{permit['id']}/payments", json=pay, headers=board).status_code == 201

    def expense(http: httpx.Client, i: int) -> httpx.Response:
        body = {"id": f"e-{i}", "paid_on": "2026-04-01", "amount_cents": 30_000, "description": "hosting"}
        return http.post("/api/v1/expenses", json=body, headers=board)

    responses = crowd(live_server, expense)
    assert statuses(responses) == [201] * 3 + [409] * (CROWD - 3)
    assert _balances(client, board)["assets:bank"] == 10_000
    _verified(database)


def test_one_payment_sent_by_many_clients(client: TestClient, database: Database, live_server: str) -> None:
    board = f.board(client, database)
    permit = client.post("/api/v1/permits", json=f.permit_body(), headers=f.api_key(database, "hdab")).json()
    url = f"/api/v1/permits/{permit['id']}/payments"
    same = {"id": "inv-7", "received_on": "2026-03-01", "amount_cents": 5_000, "kind": "fee"}

    responses = crowd(live_server, lambda http, _i: http.post(url, json=same, headers=board))
    assert statuses(responses) == [200] * (CROWD - 1) + [201]
    assert len({r.text for r in responses}) == 1  # every client got the original

    def other(http: httpx.Client, i: int) -> httpx.Response:
        return http.post(url, json={**same, "id": "inv-8", "amount_cents": 100 + i}, headers=board)

    responses = crowd(live_server, other)
    assert statuses(responses) == [201] + [409] * (CROWD - 1)
    assert _codes(responses) == {"entry-differs": CROWD - 1}
    kept = next(r.json() for r in responses if r.status_code == 201)
    assert _balances(client, board)["assets:bank"] == 5_000 + kept["postings"][0]["amount_cents"]
    _verified(database)


def test_first_payments_on_a_new_permit_at_once(client: TestClient, database: Database, live_server: str) -> None:
    board = f.board(client, database)
    permit = client.post("/api/v1/permits", json=f.permit_body(), headers=f.api_key(database, "hdab")).json()
    url = f"/api/v1/permits/{permit['id']}/payments"

    def pay(http: httpx.Client, i: int) -> httpx.Response:
        kind = "fee" if i % 2 else "benefit-share"
        return http.post(
            url,
            json={"id": f"p-{i}", "received_on": "2026-03-01", "amount_cents": 1_000 + i, "kind": kind},
            headers=board,
        )

    assert statuses(crowd(live_server, pay)) == [201] * CROWD
    assert _balances(client, board)["assets:bank"] == sum(1_000 + i for i in range(CROWD))
    _verified(database)


def test_one_email_admitted_by_many_clients(client: TestClient, database: Database, live_server: str) -> None:
    board = f.board(client, database)
    body = {"name": "Ada", "email": "ada@coop-test.nl", "language": "nl"}
    responses = crowd(live_server, lambda http, _i: http.post("/api/v1/members", json=body, headers=board))
    assert statuses(responses) == [201] + [409] * (CROWD - 1)
    assert _codes(responses) == {"member-exists": CROWD - 1}

    def newcomer(http: httpx.Client, i: int) -> httpx.Response:
        return http.post("/api/v1/members", json={**body, "email": f"new{i}@coop-test.nl"}, headers=board)

    admitted = crowd(live_server, newcomer)
    assert statuses(admitted) == [201] * CROWD
    numbers = sorted(r.json()["member"]["number"] for r in admitted)
    assert len(set(numbers)) == CROWD
    _verified(database)


def test_one_new_email_confirmed_by_many_members_at_once(
    client: TestClient, database: Database, live_server: str
) -> None:
    """Members who each asked for the same new address, confirming at once: one gets it, the
    others a clear 409 (never a 500), and the address is one member's and one login's."""
    board = f.board(client, database)
    people = f.members(client, board, CROWD)
    new = "shared.address@coop-test.nl"

    def ask(http: httpx.Client, i: int) -> httpx.Response:
        body = {"email": new}
        return http.post(f"/api/v1/members/{people[i].id}/email-change", json=body, headers=people[i].headers)

    assert statuses(crowd(live_server, ask)) == [202] * CROWD
    with database.unit_of_work(write=False) as s:
        rows = s.execute(
            select(OutboxMessage.member_id, OutboxMessage.context).where(
                col(OutboxMessage.kind) == MailKind.email_change_confirm.value,
                col(OutboxMessage.status) == "pending",
            )
        ).all()
    tokens = {member_id: json.loads(context)["token"] for member_id, context in rows}
    assert len(rows) == len(tokens) == CROWD, "one waiting link for each member"

    def confirm(http: httpx.Client, i: int) -> httpx.Response:
        return http.post("/api/v1/members/confirm-email", json={"token": tokens[people[i].id]})

    responses = crowd(live_server, confirm)
    assert statuses(responses) == [200] + [409] * (CROWD - 1)
    assert _codes(responses) == {"email-taken": CROWD - 1}
    with database.unit_of_work(write=False) as s:
        assert s.execute(select(func.count()).where(col(Member.email) == new)).scalar_one() == 1
        assert s.execute(select(func.count()).where(col(UserAccount.email) == new)).scalar_one() == 1
    loser = people[next(i for i, r in enumerate(responses) if r.status_code == 409)]
    late = client.post(f"/api/v1/members/{loser.id}/email-change", json={"email": new}, headers=board)
    assert (late.status_code, late.json()["code"]) == (409, "email-taken")
    _verified(database)


def test_one_permit_registered_by_many_clients(client: TestClient, database: Database, live_server: str) -> None:
    hdab = f.api_key(database, "hdab")
    body = f.permit_body(permit_number="NL-HDAB-RACE-1")
    responses = crowd(live_server, lambda http, _i: http.post("/api/v1/permits", json=body, headers=hdab))
    assert statuses(responses) == [200] * (CROWD - 1) + [201]
    assert len({r.json()["id"] for r in responses}) == 1

    def other(http: httpx.Client, i: int) -> httpx.Response:
        return http.post(
            "/api/v1/permits", json={**body, "permit_number": "NL-HDAB-RACE-2", "fee_cents": i}, headers=hdab
        )

    responses = crowd(live_server, other)
    assert statuses(responses) == [201] + [409] * (CROWD - 1)
    _verified(database)


def test_manifests_of_one_permit_made_by_many_clients_at_once(
    client: TestClient, database: Database, live_server: str
) -> None:
    """Each request makes a manifest of its own (a permit may have several), all the same
    members as of the approval, each with its own event; none fails, none is half made."""
    f.with_members(client, database, 5)
    hdab = f.api_key(database, "hdab")
    permit = client.post("/api/v1/permits", json=f.permit_body(approved_at=utcnow().isoformat()), headers=hdab).json()
    url = f"/api/v1/permits/{permit['id']}/manifests"
    responses = crowd(live_server, lambda http, _i: http.post(url, headers=hdab))
    assert statuses(responses) == [201] * CROWD
    made = [r.json() for r in responses]
    assert len({m["id"] for m in made}) == len({m["ledger_seq"] for m in made}) == CROWD
    assert {(m["size"], m["root_hash"]) for m in made} == {(5, made[0]["root_hash"])}
    for m in made:
        assert client.get(f"{url}/{m['id']}", headers=hdab).json()["size"] == 5
    _verified(database)


def test_one_usage_report_sent_by_many_clients(client: TestClient, database: Database, live_server: str) -> None:
    hdab = f.api_key(database, "hdab")
    permit = client.post("/api/v1/permits", json=f.permit_body(approved_at=utcnow().isoformat()), headers=hdab).json()
    url = f"/api/v1/permits/{permit['id']}/usage"
    body = {"id": "spe-42", "kind": "access", "occurred_at": utcnow().isoformat(), "description": "session"}
    responses = crowd(live_server, lambda http, _i: http.post(url, json=body, headers=hdab))
    assert statuses(responses) == [200] * (CROWD - 1) + [201]
    assert len({r.json()["id"] for r in responses}) == 1

    def other(http: httpx.Client, i: int) -> httpx.Response:
        return http.post(url, json={**body, "id": "spe-43", "description": f"session {i}"}, headers=hdab)

    responses = crowd(live_server, other)
    assert statuses(responses) == [201] + [409] * (CROWD - 1)
    _verified(database)


def test_one_vote_sent_by_many_clients(client: TestClient, database: Database, live_server: str) -> None:
    board, people, _permit = f.cooperative(client, database, members=1)
    proposal = f.propose(client, board)
    url = f"/api/v1/governance/proposals/{proposal['id']}/votes"
    voter = people[0].headers
    responses = crowd(live_server, lambda http, _i: http.post(url, json={"vote": "yes"}, headers=voter))
    assert statuses(responses) == [200] * (CROWD - 1) + [201]

    def change(http: httpx.Client, i: int) -> httpx.Response:
        return http.put(url + "/mine", json={"vote": ("no", "abstain")[i % 2]}, headers=voter)

    assert statuses(crowd(live_server, change)) == [200] * CROWD
    _verified(database)


def test_proxies_appointing_each_other_at_once(client: TestClient, database: Database, live_server: str) -> None:
    board = f.board(client, database)
    people = [f.member(client, board) for _ in range(CROWD)]

    def appoint(http: httpx.Client, i: int) -> httpx.Response:
        me, other = people[i], people[i ^ 1]  # 0<->1, 2<->3, ...
        return http.post(f"/api/v1/members/{me.id}/proxies", json={"proxy_member_id": other.id}, headers=me.headers)

    responses = crowd(live_server, appoint)
    for pair in range(0, CROWD, 2):
        pair_statuses = statuses(responses[pair : pair + 2])
        assert pair_statuses == [201, 409], pair_statuses
    assert _codes(responses) == {"proxy-cycle": CROWD // 2}
    _verified(database)


def test_one_distribution_committed_by_many_clients(
    client: TestClient, database: Database, live_server: str, clock: Clock
) -> None:
    board, people, permit_id = f.cooperative(client, database)
    f.money(client, board, permit_id, income=100_000, expense=10_000)
    clock.moment = f.AFTER
    drafts = crowd(live_server, lambda http, _i: http.post("/api/v1/distributions", json=f.PERIOD, headers=board))
    assert statuses(drafts) == [201] * CROWD  # drafts change nothing; any of them may be committed
    draft = drafts[0].json()
    asked = crowd(
        live_server, lambda http, _i: http.post(f"/api/v1/distributions/{draft['id']}/commit-requests", headers=board)
    )
    assert statuses(asked) == [201] + [409] * (CROWD - 1)  # one request waits for a second board member
    assert _codes(asked) == {"approval-pending": CROWD - 1}
    (request,) = [r.json() for r in asked if r.status_code == 201]
    approvers = _board_users(client, database, CROWD)
    url = f"/api/v1/approvals/{request['id']}/approve"
    responses = crowd(live_server, lambda http, i: http.post(url, headers=approvers[i]))
    assert statuses(responses) == [200] + [409] * (CROWD - 1)  # eight board members approve at once: one commit
    assert _codes(responses) == {"approval-decided": CROWD - 1}
    books = _balances(client, board)
    assert books["assets:bank"] == 90_000 - 3 * 15_000  # paid out once, not eight times
    others = [d.json()["id"] for d in drafts[1:]]

    def commit_another(http: httpx.Client, i: int) -> httpx.Response:
        return http.post(f"/api/v1/distributions/{others[i % len(others)]}/commit-requests", headers=board)

    late = crowd(live_server, commit_another)
    assert statuses(late) == [409] * CROWD  # the period is distributed: no other draft of it commits
    assert _codes(late) == {"period-distributed": CROWD}
    assert _balances(client, board) == books
    mine = client.get(f"/api/v1/members/{people[0].id}/dividends", headers=people[0].headers).json()
    assert mine["paid_out_cents"] == 15_000
    _verified(database)


def test_bookings_and_the_commit_that_closes_their_period_at_once(
    client: TestClient, database: Database, live_server: str, clock: Clock
) -> None:
    """One client commits a distribution while the others book payments into its period:
    either a payment lands first and the draft is stale, or the period closes first and
    every payment is refused. No payment ever lands in a closed period."""
    board, _people, permit_id = f.cooperative(client, database)
    f.money(client, board, permit_id, income=100_000)
    clock.moment = f.AFTER
    draft = client.post("/api/v1/distributions", json=f.PERIOD, headers=board).json()
    request = client.post(f"/api/v1/distributions/{draft['id']}/commit-requests", headers=board).json()
    approver = f.second_board(client, database)

    def commit_or_book(http: httpx.Client, i: int) -> httpx.Response:
        if i == 0:  # the second board member approves, which commits
            return http.post(f"/api/v1/approvals/{request['id']}/approve", headers=approver)
        body = {"id": f"pay-race-{i}", "received_on": f.BOOKED, "amount_cents": 1_000 + i, "kind": "fee"}
        return http.post(f"/api/v1/permits/{permit_id}/payments", json=body, headers=board)

    committed, *booked = crowd(live_server, commit_or_book)
    assert committed.status_code in (200, 409), committed.text
    assert all(r.status_code in (201, 409) for r in booked), [r.text for r in booked]
    if committed.status_code == 200:
        assert _codes(booked) == {"period-closed": CROWD - 1}
    else:
        assert committed.json()["code"] == "draft-stale"  # nothing closed: every payment landed
        assert statuses(booked) == [201] * (CROWD - 1)
    _verified(database)


def test_one_invitation_accepted_by_many_clients(client: TestClient, database: Database, live_server: str) -> None:
    board = f.board(client, database)
    token = f.admit(client, board)["invitation_token"]
    body = {"token": token, "password": f.PASSWORD}
    responses = crowd(live_server, lambda http, _i: http.post("/api/v1/auth/accept-invitation", json=body))
    assert statuses(responses) == [201] + [410] * (CROWD - 1)
    assert _codes(responses) == {"invitation-used": CROWD - 1}
    _verified(database)


def test_one_permit_extended_and_revoked_by_many_clients(
    client: TestClient, database: Database, live_server: str
) -> None:
    hdab = f.api_key(database, "hdab")
    permit = client.post("/api/v1/permits", json=f.permit_body(), headers=hdab).json()
    end = datetime.fromisoformat(permit["valid_until"])

    def extend(http: httpx.Client, i: int) -> httpx.Response:
        new_end = (end + timedelta(days=30 + i)).isoformat()
        return http.post(f"/api/v1/permits/{permit['id']}/extend", json={"valid_until": new_end}, headers=hdab)

    responses = crowd(live_server, extend)
    assert statuses(responses) == [200] + [409] * (CROWD - 1)  # extendable once (Art. 68)
    assert _codes(responses) == {"already-extended": CROWD - 1}

    def revoke(http: httpx.Client, i: int) -> httpx.Response:
        return http.post(f"/api/v1/permits/{permit['id']}/revoke", json={"reason": f"breach {i}"}, headers=hdab)

    responses = crowd(live_server, revoke)
    assert statuses(responses) == [200] * CROWD
    assert len({r.json()["revoked_at"] for r in responses}) == 1  # revoked once; the others see it
    _verified(database)


def test_one_proposal_closed_by_many_clients(client: TestClient, database: Database, live_server: str) -> None:
    board, people, _permit = f.cooperative(client, database, members=2)
    proposal = f.propose(client, board, quorum_pct=10, closes_at=(utcnow() + timedelta(seconds=3)).isoformat())
    for person in people:
        vote = {"vote": "yes"}
        assert client.post(f"/api/v1/governance/proposals/{proposal['id']}/votes", json=vote, headers=person.headers)
    while utcnow() < datetime.fromisoformat(proposal["closes_at"]):
        time.sleep(0.1)
    url = f"/api/v1/governance/proposals/{proposal['id']}/close"
    responses = crowd(live_server, lambda http, _i: http.post(url, headers=board))
    assert statuses(responses) == [200] * CROWD
    assert len({r.text for r in responses}) == 1  # one tally, one adoption
    with database.unit_of_work(write=False) as s:
        events = log.events_after(s, 0, 10_000)
    adopted = [
        e for e in events if e.type == "benefit-policy.adopted" and f'"source":"proposal:{proposal["id"]}"' in e.payload
    ]
    assert len(adopted) == 1
    _verified(database)


def test_many_reads_of_members_data_at_once_are_each_recorded(
    client: TestClient, database: Database, live_server: str
) -> None:
    """Board users and a manifest's downloaders reading at the same moment: each read has its
    own record and event, none is lost or served unrecorded, and the record verifies."""
    hdab, permit, people = f.registered(client, database, members=3, manifest=True)
    boards = _board_users(client, database, CROWD // 2)

    def read(http: httpx.Client, i: int) -> httpx.Response:
        if i % 2:
            return http.get(f"/api/v1/permits/{permit['id']}/manifests/1", headers=hdab)
        return http.get(f"/api/v1/members/{people[i % 3].id}/choices", headers=boards[i // 2])

    assert statuses(crowd(live_server, read)) == [200] * CROWD
    with database.unit_of_work(write=False) as s:
        events = [e for e in log.events_after(s, 0, 10_000) if e.type == "access.recorded"]
    assert len(events) == CROWD
    for person in people:
        seen = client.get(f"/api/v1/members/{person.id}/access-log", headers=person.headers).json()
        assert seen["total"] == CROWD // 2 + sum(1 for i in range(0, CROWD, 2) if i % 3 == people.index(person))
    _verified(database)
