"""Ending logins: logging out (API and portal), a new password and leaving make every
earlier token of the person stop working; checking a token stays one lookup."""

from __future__ import annotations

from collections import Counter
from functools import partial

from fastapi.testclient import TestClient
from sqlalchemy import select

from coop.auth.models import LoginFailures, UserAccount
from coop.db import Database
from ledger import log
from tests import factories as f
from tests.together import together

NEW = "a brand new passphrase"


def _me(client: TestClient, headers: dict[str, str], member_id: int) -> int:
    return client.get(f"/api/v1/members/{member_id}", headers=headers).status_code


def _change(client: TestClient, headers: dict[str, str], current: str, new: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/auth/password", json={"current_password": current, "new_password": new}, headers=headers
    )


def test_logging_out_ends_every_token_of_the_account(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    other_device = f.login(client, m.email)
    assert _me(client, m.headers, m.id) == _me(client, other_device, m.id) == 200
    r = client.post("/api/v1/auth/logout", headers=m.headers)
    assert r.status_code == 204
    for old in (m.headers, other_device):
        r = client.get(f"/api/v1/members/{m.id}", headers=old)
        assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
    assert client.post("/api/v1/auth/logout", headers=m.headers).status_code == 401
    assert _me(client, f.login(client, m.email), m.id) == 200  # logging in again works


def test_api_keys_have_no_login_to_end(client: TestClient, database: Database) -> None:
    auditor = f.api_key(database, "auditor")
    r = client.post("/api/v1/auth/logout", headers=auditor)
    assert r.status_code == 403 and r.json()["code"] == "not-a-login"
    assert client.get("/api/v1/ledger/events", headers=auditor).status_code == 200
    assert _change(client, auditor, "x" * 12, NEW).json()["code"] == "not-a-login"


def test_logging_out_of_the_portal_ends_the_token_itself(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    f.portal_login(client, m.email)
    cookie = client.cookies.get("coop_session")
    assert cookie and _me(client, f.bearer(cookie), m.id) == 200
    client.post("/logout", data={"csrf": f.csrf(client.get("/me").text)})
    assert _me(client, f.bearer(cookie), m.id) == 401  # a copied cookie is worth nothing after logging out
    client.cookies.set("coop_session", cookie)
    assert client.get("/me", follow_redirects=False).headers["location"] == "/login"


def test_a_new_password_ends_the_old_logins(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    other_device = f.login(client, m.email)
    r = _change(client, m.headers, f.PASSWORD, NEW)
    assert r.status_code == 200, r.text
    fresh = f.bearer(r.json()["access_token"])
    assert _me(client, fresh, m.id) == 200
    assert _me(client, m.headers, m.id) == _me(client, other_device, m.id) == 401
    assert client.post("/api/v1/auth/token", data={"username": m.email, "password": f.PASSWORD}).status_code == 401
    assert _me(client, f.login(client, m.email, NEW), m.id) == 200
    with database.unit_of_work(write=False) as s:
        user_id = s.execute(select(UserAccount.id).where(UserAccount.member_id == m.id)).scalar_one()
        changed = [e for e in log.events_after(s, 0, 1000) if e.type == "account.password-changed"]
    assert [(e.subject, e.actor, e.payload) for e in changed] == [(f"user:{user_id}", f"user:{user_id}", "{}")]


def test_a_password_change_is_refused_clearly(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    wrong = _change(client, m.headers, "not my password", NEW)
    assert wrong.status_code == 403 and wrong.json()["code"] == "wrong-password"
    same = _change(client, m.headers, f.PASSWORD, f.PASSWORD)
    assert same.status_code == 422 and same.json()["code"] == "password-unchanged"
    assert _change(client, m.headers, f.PASSWORD, "short").status_code == 422
    extra = {"current_password": f.PASSWORD, "new_password": NEW, "admin": True}
    assert client.post("/api/v1/auth/password", json=extra, headers=m.headers).status_code == 422
    assert (
        client.post("/api/v1/auth/password", json={"current_password": f.PASSWORD, "new_password": NEW}).status_code
        == 401
    )
    assert _me(client, m.headers, m.id) == 200  # nothing changed


def test_guessing_the_current_password_is_throttled_like_logging_in(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    for _ in range(database.settings.auth.login_max_failures):
        assert _change(client, m.headers, "a guess at it!", NEW).status_code == 403
    with database.unit_of_work(write=False) as s:  # the login's own counts: account, account here, here
        assert sorted(s.execute(select(LoginFailures.failures)).scalars()) == [5, 5, 5]


def test_leaving_ends_the_members_logins(client: TestClient, database: Database) -> None:
    board = f.board(client, database)
    m = f.member(client, board)
    assert client.post(f"/api/v1/members/{m.id}/leave", headers=board).status_code == 200
    assert _me(client, m.headers, m.id) == 401
    assert _me(client, f.login(client, m.email), m.id) == 200  # a former member reads their own record
    assert _me(client, board, m.id) == 200  # the board's login is another's


def test_the_portal_changes_a_password_with_its_csrf_token(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    f.portal_login(client, m.email)
    page = client.get("/me/password")
    assert page.status_code == 200 and 'autocomplete="new-password"' in page.text
    forged = client.post("/me/password", data={"csrf": "0" * 64, "current_password": f.PASSWORD, "new_password": NEW})
    assert forged.status_code == 403
    wrong = client.post(
        "/me/password", data={"csrf": f.csrf(page.text), "current_password": "nope nope", "new_password": NEW}
    )
    assert wrong.status_code == 200 and "Uw huidige wachtwoord klopt niet." in wrong.text
    r = client.post(
        "/me/password",
        data={"csrf": f.csrf(page.text), "current_password": f.PASSWORD, "new_password": NEW},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/me/password?saved=1"
    assert client.get("/me").status_code == 200  # this browser stays logged in, with a new token
    assert _me(client, m.headers, m.id) == 401  # the others do not
    assert _me(client, f.login(client, m.email, NEW), m.id) == 200


def test_simultaneous_password_changes_take_turns(client: TestClient, database: Database) -> None:
    """Each change checks the password the previous one left: one wins, the others are told
    their current password is not right, none is answered with a 500."""
    m = f.member(client, f.board(client, database))
    changes = [partial(_change, client, m.headers, f.PASSWORD, f"{NEW} number {i}") for i in range(8)]
    statuses = Counter(r.status_code for r in together(*changes))
    assert statuses[200] == 1 and set(statuses) <= {200, 401, 403, 429}, statuses  # 429: guessing, throttled
    with database.unit_of_work(write=False) as s:
        assert sum(e.type == "account.password-changed" for e in log.events_after(s, 0, 1000)) == 1


def test_simultaneous_logouts_each_count(client: TestClient, database: Database) -> None:
    m = f.member(client, f.board(client, database))
    tokens = [f.login(client, m.email) for _ in range(10)]
    logouts = [partial(client.post, "/api/v1/auth/logout", headers=t) for t in tokens]
    statuses = Counter(r.status_code for r in together(*logouts))
    assert set(statuses) <= {204, 401} and statuses[204] >= 1, statuses
    with database.unit_of_work(write=False) as s:
        generation = s.execute(select(UserAccount.token_generation).where(UserAccount.member_id == m.id)).scalar_one()
    assert generation == statuses[204]  # every logout that was let in raised it; none was lost
    assert all(_me(client, t, m.id) == 401 for t in tokens)
