"""The board adds and removes its own users, in the API, the portal and on the command line.
A new board user is mailed a single-use link to set a password and then works as the board;
a removed one can no longer log in and their tokens stop working; the last board user who can
log in is never removed, not even by two board users removing each other at once. The ledger
of record shows each addition and removal, and `coop ledger verify` reconciles both."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from coop.cli import app
from coop.db import Database
from coop.mail.models import OutboxMessage
from coop.record.verification import verify_record
from coop.settings import Settings
from coop.types import utcnow
from tests import factories as f
from tests.concurrency.conftest import crowd, statuses

USERS = "/api/v1/auth/board-users"
PASSWORD = "a long new board password"


def _welcome_token(database: Database, email: str) -> str:
    with database.unit_of_work(write=False) as s:
        row = s.execute(
            select(OutboxMessage).where(OutboxMessage.recipient == email, OutboxMessage.kind == "board-welcome")  # type: ignore[arg-type]
        ).scalar_one()
    return str(json.loads(row.context)["token"])


def _verified(database: Database) -> list[str]:
    with database.unit_of_work(write=False) as s:
        checked = verify_record(
            s.connection(), database.settings, {database.signer.key_id: database.signer.public_key}, now=utcnow()
        )
    return checked.problems


def _set_password(client: TestClient, token: str) -> None:
    page = client.get("/password/reset", params={"token": token})
    done = client.post("/password/reset", data={"csrf": f.csrf(page.text), "token": token, "password": PASSWORD})
    assert done.status_code == 200, done.text


def test_a_board_user_is_added_sets_a_password_works_and_is_removed(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    r = client.post(USERS, json={"email": "Penningmeester@Coop-Test.nl", "language": "en"}, headers=board)
    assert r.status_code == 201, r.text
    added = r.json()
    assert added["email"] == "penningmeester@coop-test.nl" and added["disabled_at"] is None
    assert client.post(USERS, json={"email": "penningmeester@coop-test.nl"}, headers=board).status_code == 409

    _set_password(client, _welcome_token(database, added["email"]))
    token = client.post("/api/v1/auth/token", data={"username": added["email"], "password": PASSWORD}).json()
    second = {"Authorization": f"Bearer {token['access_token']}"}
    assert token["role"] == "board" and client.get(USERS, headers=second).status_code == 200

    removed = client.post(f"{USERS}/{added['id']}/remove", headers=board)
    assert removed.status_code == 200 and removed.json()["disabled_at"] is not None
    assert client.get(USERS, headers=second).status_code == 401, "their tokens stop working"
    login = client.post("/api/v1/auth/token", data={"username": added["email"], "password": PASSWORD})
    assert login.status_code == 401
    again = client.post(f"{USERS}/{added['id']}/remove", headers=board)
    assert again.json()["disabled_at"] == removed.json()["disabled_at"], "removing again changes nothing"

    [first] = [u for u in client.get(USERS, headers=board).json() if u["disabled_at"] is None]
    last = client.post(f"{USERS}/{first['id']}/remove", headers=board)
    assert last.status_code == 409 and last.json()["code"] == "last-board-user"
    events = client.get("/api/v1/ledger/events", params={"limit": 1000}, headers=board).json()["items"]
    mine = [e["type"] for e in events if e["subject"] == f"user:{added['id']}"]
    assert mine == ["account.created", "account.password-reset", "account.disabled"]
    assert _verified(database) == []


def test_a_login_disabled_without_its_event_is_caught_by_verify(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    added = client.post(USERS, json={"email": "tweede@coop-test.nl"}, headers=board).json()
    with database.unit_of_work() as s:  # behind the services' back
        s.execute(text("UPDATE user_account SET disabled_at = created_at WHERE id = :id"), {"id": added["id"]})
    assert any("account.disabled" in p or "user_account" in p for p in _verified(database))


def test_others_may_not_manage_the_board(client: TestClient, database: Database) -> None:
    board = f.founded(client, database)
    anna = f.member(client, board)
    for headers in (anna.headers, f.api_key(database, "auditor")):
        assert client.post(USERS, json={"email": "x@coop-test.nl"}, headers=headers).status_code == 403
        assert client.get(USERS, headers=headers).status_code == 403
    bad = client.post(USERS, json={"email": "x@coop-test.nl", "language": "fr"}, headers=board)
    assert bad.status_code == 422
    with database.unit_of_work(write=False) as s:
        annas_login = s.execute(text("SELECT id FROM user_account WHERE member_id = :m"), {"m": anna.id}).scalar_one()
    for not_board in (annas_login, 999_999):
        assert client.post(f"{USERS}/{not_board}/remove", headers=board).json()["code"] == "board-user-not-found"


def test_the_board_adds_and_removes_a_board_user_in_the_portal(client: TestClient, database: Database) -> None:
    f.founded(client, database)
    f.portal_login(client, f.BOARD_EMAIL)
    page = client.get("/board/users")
    assert page.status_code == 200 and "Bestuurders" in page.text and "(u)" in page.text
    done = client.post("/board/users", data={"csrf": f.csrf(page.text), "email": "secretaris@coop-test.nl"})
    assert done.status_code == 200 and "secretaris@coop-test.nl" in done.text
    with database.unit_of_work(write=False) as s:
        welcome = s.execute(select(OutboxMessage).where(OutboxMessage.kind == "board-welcome")).scalar_one()  # type: ignore[arg-type]
    assert welcome.language == "nl" and welcome.recipient == "secretaris@coop-test.nl"
    listing = client.get("/board/users").text
    me_first = client.post("/board/users/1/remove", data={"csrf": f.csrf(listing)}, follow_redirects=False)
    assert me_first.headers["location"] == "/board/users?saved=1", "another can still log in"
    assert (
        client.get("/board/users").status_code in (302, 303, 401)
        or "Bestuurders" not in client.get("/board/users").text
    ), "removing oneself ends one's own login"


def test_the_board_on_the_command_line(cli_env: Settings) -> None:
    runner = CliRunner()
    assert (
        runner.invoke(app, ["bootstrap-board", "--email", "chair@coop-test.nl", "--password", PASSWORD]).exit_code == 0
    )
    added = runner.invoke(app, ["board", "add", "vice@coop-test.nl", "--language", "en"])
    assert added.exit_code == 0 and "vice@coop-test.nl added" in added.output
    assert runner.invoke(app, ["board", "add", "vice@coop-test.nl"]).exit_code == 1
    assert runner.invoke(app, ["board", "remove", "vice@coop-test.nl"]).exit_code == 0
    last = runner.invoke(app, ["board", "remove", "chair@coop-test.nl"])
    assert last.exit_code == 1 and "at least one board user" in last.output
    assert runner.invoke(app, ["board", "remove", "nobody@coop-test.nl"]).exit_code == 1


def test_two_board_users_removing_each_other_at_once_leave_one(
    client: TestClient, database: Database, live_server: str
) -> None:
    board = f.founded(client, database)
    added = client.post(USERS, json={"email": "tweede@coop-test.nl"}, headers=board).json()
    _set_password(client, _welcome_token(database, added["email"]))
    token = client.post("/api/v1/auth/token", data={"username": added["email"], "password": PASSWORD}).json()
    second = {"Authorization": f"Bearer {token['access_token']}"}
    [first] = [u for u in client.get(USERS, headers=board).json() if u["id"] != added["id"]]
    pairs = [(board, added["id"]), (second, first["id"])]
    answers = crowd(
        live_server, lambda http, i: http.post(f"{USERS}/{pairs[i % 2][1]}/remove", headers=pairs[i % 2][0]), n=2
    )
    codes = statuses(answers)
    assert codes in ([200, 401], [200, 409]), codes  # one removes the other; the other is refused or ended
    left = (
        [u for u in client.get(USERS, headers=board if codes else second).json() if u["disabled_at"] is None]
        if False
        else None
    )
    with database.unit_of_work(write=False) as s:
        active = s.execute(
            text("SELECT count(*) FROM user_account WHERE role = 'board' AND disabled_at IS NULL")
        ).scalar_one()
    assert active == 1 and left is None
