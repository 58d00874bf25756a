"""Members: admission, invitations, reading, searching, leaving; bad input changes nothing."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import select

from coop.db import Database
from coop.members.models import Invitation
from ledger import log
from tests import factories as f
from tests.conftest import Clock


def _events(database: Database) -> list:
    with database.unit_of_work(write=False) as s:
        return log.events_after(s, 0, 1000)


def test_board_admits_member_with_number_and_invitation(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    r = client.post(
        "/api/v1/members", json={"name": "Anna de Vries", "email": "Anna@Example.nl", "language": "nl"}, headers=board
    )
    assert r.status_code == 201
    body = r.json()
    m = body["member"]
    assert m["number"] == f"M-{m['id']:06d}"
    assert m["email"] == "anna@example.nl"
    assert m["status"] == "active"
    assert len(body["invitation_token"]) >= 32
    types = [(e.type, e.subject) for e in _events(database)]
    assert ("member.admitted", f"member:{m['id']}") in types
    assert ("member.invited", f"member:{m['id']}") in types


def test_ledger_holds_no_personal_data(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    f.admit_over_http(client, board, name="Piet Pseudoniem")
    for e in _events(database):
        assert "Pseudoniem" not in e.payload and "@" not in e.payload


def test_member_accepts_invitation_and_reads_self(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    me = f.member(client, board)
    r = client.get(f"/api/v1/members/{me.id}", headers=me.headers)
    assert r.status_code == 200
    assert r.json()["number"] == me.number


def test_invitation_is_one_time(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    admitted = f.admit_over_http(client, board)
    body = {"token": admitted["invitation_token"], "password": f.PASSWORD}
    assert client.post("/api/v1/auth/accept-invitation", json=body).status_code == 201
    before = len(_events(database))
    r = client.post("/api/v1/auth/accept-invitation", json=body)
    assert r.status_code == 410
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "invitation-used"
    assert len(_events(database)) == before


def test_expired_invitation_is_refused(client: TestClient, database: Database, clock: Clock) -> None:
    board = f.board(client, database)
    admitted = f.admit_over_http(client, board)
    with database.unit_of_work() as s:
        inv = s.exec(select(Invitation).where(Invitation.member_id == admitted["member"]["id"])).one()
    later = inv.expires_at + timedelta(seconds=1)  # an invitation never changes: the clock moves instead
    with clock.at(later):
        r = client.post(
            "/api/v1/auth/accept-invitation", json={"token": admitted["invitation_token"], "password": f.PASSWORD}
        )
    assert r.status_code == 410
    assert r.json()["code"] == "invitation-expired"


def test_unknown_invitation_and_weak_password(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    admitted = f.admit_over_http(client, board)
    r = client.post("/api/v1/auth/accept-invitation", json={"token": "x" * 40, "password": f.PASSWORD})
    assert r.status_code == 422 and r.json()["code"] == "invitation-invalid"
    r = client.post("/api/v1/auth/accept-invitation", json={"token": admitted["invitation_token"], "password": "short"})
    assert r.status_code == 422
    # the failed attempt did not use up the invitation
    r = client.post(
        "/api/v1/auth/accept-invitation", json={"token": admitted["invitation_token"], "password": f.PASSWORD}
    )
    assert r.status_code == 201


def test_reinvitation_withdraws_the_old_token(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    admitted = f.admit_over_http(client, board)
    r = client.post(f"/api/v1/members/{admitted['member']['id']}/invitation", headers=board)
    assert r.status_code == 201
    old = client.post(
        "/api/v1/auth/accept-invitation", json={"token": admitted["invitation_token"], "password": f.PASSWORD}
    )
    assert old.status_code == 422
    new = client.post(
        "/api/v1/auth/accept-invitation", json={"token": r.json()["invitation_token"], "password": f.PASSWORD}
    )
    assert new.status_code == 201


def test_member_cannot_see_another_member(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    a, b = f.member(client, board), f.member(client, board)
    other = client.get(f"/api/v1/members/{b.id}", headers=a.headers)
    missing = client.get("/api/v1/members/999999", headers=a.headers)
    assert other.status_code == missing.status_code == 404
    assert other.json()["detail"].replace(str(b.id), "N") == missing.json()["detail"].replace("999999", "N")
    assert client.post(f"/api/v1/members/{b.id}/leave", headers=a.headers).status_code == 404


def test_hdab_never_sees_a_member(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    m = f.member(client, board)
    hdab = f.api_key(database, "hdab")
    assert client.get(f"/api/v1/members/{m.id}", headers=hdab).status_code == 404
    assert client.get("/api/v1/members", headers=hdab).status_code == 403


def test_board_lists_and_searches(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    a = f.admit_over_http(client, board, name="Joke Jansen")
    f.admit_over_http(client, board, name="Kees Bakker")
    r = client.get("/api/v1/members", params={"q": "jansen"}, headers=board)
    assert r.status_code == 200
    assert [m["name"] for m in r.json()["items"]] == ["Joke Jansen"]
    r = client.get("/api/v1/members", params={"q": a["member"]["number"]}, headers=board)
    assert [m["id"] for m in r.json()["items"]] == [a["member"]["id"]]
    r = client.get("/api/v1/members", params={"limit": 1}, headers=board)
    assert r.json()["total"] == 2 and len(r.json()["items"]) == 1


def test_member_may_not_list(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    m = f.member(client, board)
    r = client.get("/api/v1/members", headers=m.headers)
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"


def test_leaving_is_recorded_once(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    m = f.member(client, board)
    r1 = client.post(f"/api/v1/members/{m.id}/leave", headers=m.headers)
    again = f.login(client, m.email)  # leaving ended the login; a former member may log in again
    r2 = client.post(f"/api/v1/members/{m.id}/leave", headers=again)
    r3 = client.post(f"/api/v1/members/{m.id}/leave", headers=board)
    assert r1.status_code == r2.status_code == r3.status_code == 200
    assert r1.json()["status"] == "left" and r1.json()["left_at"] == r2.json()["left_at"] == r3.json()["left_at"]
    assert [e.type for e in _events(database)].count("member.left") == 1
    # a member who left can still log in and read themselves
    assert client.get(f"/api/v1/members/{m.id}", headers=again).status_code == 200


def test_duplicate_email_is_a_conflict_and_writes_nothing(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    a = f.admit_over_http(client, board)
    before = len(_events(database))
    r = client.post("/api/v1/members", json={"name": "X", "email": a["member"]["email"].upper()}, headers=board)
    assert r.status_code == 409 and r.json()["code"] == "member-exists"
    assert len(_events(database)) == before


def test_bad_input_is_a_clear_4xx_and_writes_nothing(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    before = len(_events(database))
    url = "/api/v1/members"
    cases = [
        (client.post(url, content=b"{not json", headers={**board, "Content-Type": "application/json"}), 400),
        (client.post(url, json={"name": "A", "email": "a@b.nl", "shoe_size": 44}, headers=board), 422),
        (client.post(url, json={"name": "A", "email": "not-an-email"}, headers=board), 422),
        (client.post(url, json={"name": "A", "email": "a@b.nl", "language": "de"}, headers=board), 422),
        (client.post(url, json={"name": "", "email": "a@b.nl"}, headers=board), 422),
        (client.post(url, json=[1, 2], headers=board), 422),
        (client.post(url, json={"name": "A\u0000B", "email": "a@b.nl"}, headers=board), 422),
        (client.get(url, params={"q": "a\x00"}, headers=board), 422),
        (client.post("/api/v1/auth/token", data={"username": "a\x00@b.nl", "password": "x" * 12}), 422),
        (client.post(url, json={"name": "A" * 2_000_000, "email": "a@b.nl"}, headers=board), 413),
        (client.post(url, json={"name": "A", "email": "a@b.nl"}), 401),
        (client.post(url, json={"name": "A", "email": "a@b.nl"}, headers=f.bearer("garbage")), 401),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert {"type", "title", "status", "code", "detail"} <= response.json().keys()
    assert len(_events(database)) == before
