"""Logging in, tokens, API keys, roles (throttling: test_throttle.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from coop.auth import service
from coop.auth.policy import CLI_ACTOR, ORG_ROLES, ROLE_PERMISSIONS, Actor, Permission, Role, can_read_member
from coop.auth.secrets import sha256_hex, split_api_key
from coop.db import Database
from coop.errors import Conflict, Invalid
from coop.types import utcnow
from tests import factories as f


def test_login_gives_a_bearer_token_with_role(client: TestClient, database: Database) -> None:
    f.board(client, database)
    r = client.post("/api/v1/auth/token", data={"username": f.BOARD_EMAIL.upper(), "password": f.PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["role"] == "board" and body["expires_in"] == 3600


def test_wrong_password_and_unknown_email_look_the_same(client: TestClient, database: Database) -> None:
    f.board(client, database)
    wrong = client.post("/api/v1/auth/token", data={"username": f.BOARD_EMAIL, "password": "not the password"})
    unknown = client.post("/api/v1/auth/token", data={"username": "nobody@coop-test.nl", "password": "whatever12345"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.headers["content-type"] == "application/problem+json"


def test_missing_form_fields_are_422(client: TestClient, database: Database) -> None:
    r = client.post("/api/v1/auth/token", data={"username": "a@b.nl"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


def test_api_key_authenticates_and_revocation_stops_it(client: TestClient, database: Database) -> None:
    with database.unit_of_work() as s:
        created = service.create_api_key(s, CLI_ACTOR, "Auditor BV", "auditor", now=utcnow())
    headers = f.bearer(created.token)
    assert client.get("/api/v1/ledger/events", headers=headers).status_code == 200
    with database.unit_of_work() as s:
        service.revoke_api_key(s, CLI_ACTOR, created.key.id, now=utcnow())
    r = client.get("/api/v1/ledger/events", headers=headers)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    tampered = created.token[:-2] + ("AA" if not created.token.endswith("AA") else "BB")
    assert client.get("/api/v1/ledger/events", headers=f.bearer(tampered)).status_code == 401


def test_api_keys_are_stored_hashed(database: Database) -> None:
    with database.unit_of_work() as s:
        created = service.create_api_key(s, CLI_ACTOR, "HDAB", "hdab", now=utcnow())
    parts = split_api_key(created.token)
    assert parts is not None and parts[0] == created.key.prefix
    assert parts[1] not in created.key.secret_hash and created.key.secret_hash == sha256_hex(parts[1])


@pytest.mark.parametrize("role", ["wizard", "member", "board", ""])
def test_unknown_or_personal_role_for_key_is_refused(database: Database, role: str) -> None:
    with database.unit_of_work() as s, pytest.raises(Invalid):
        service.create_api_key(s, CLI_ACTOR, "Org", role, now=utcnow())


def test_board_bootstrap_only_once(database: Database) -> None:
    with database.unit_of_work() as s:
        service.bootstrap_board(s, CLI_ACTOR, database.settings.auth, "first@coop-test.nl", f.PASSWORD, now=utcnow())
    with database.unit_of_work() as s, pytest.raises(Conflict):
        service.bootstrap_board(s, CLI_ACTOR, database.settings.auth, "second@coop-test.nl", f.PASSWORD, now=utcnow())


def test_roles_and_policies_are_data() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    for role in ORG_ROLES:
        assert Permission.read_any_member not in ROLE_PERMISSIONS[role]
    board = Actor("user", 1, Role.board)
    me = Actor("user", 2, Role.member, member_id=7)
    hdab = Actor("key", 3, Role.hdab, org="HDAB")
    assert can_read_member(board, 7) and can_read_member(me, 7)
    assert not can_read_member(me, 8) and not can_read_member(hdab, 7)


def test_every_route_declares_who_may_call_it(client: TestClient) -> None:
    """A route without an actor dependency must say it is public in its summary."""
    from fastapi.routing import APIRoute

    def depends_on_actor(dependant) -> bool:  # type: ignore[no-untyped-def]
        return any(
            d.call.__name__ in {"_current_actor", "dependency"} or depends_on_actor(d) for d in dependant.dependencies
        )

    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and route.path.startswith("/api/"):
            assert depends_on_actor(route.dependant) or "(public" in (route.summary or ""), route.path


def test_a_former_member_keeps_reading_their_own_record_and_nothing_else() -> None:
    from coop.auth.policy import (
        FORMER_MEMBERSHIP,
        account_role,
        can_change_choices,
        can_manage_proxies,
        can_read_choices,
        can_read_own_record,
        can_vote,
    )

    assert account_role("member", member_left=True) is Role.former_member
    assert account_role("board", member_left=False) is Role.board
    assert ROLE_PERMISSIONS[Role.former_member] == FORMER_MEMBERSHIP < ROLE_PERMISSIONS[Role.member]
    former = Actor("user", 2, Role.former_member, member_id=7)
    everything = 0b1111_1111
    assert can_read_member(former, 7) and can_read_own_record(former, 7) and can_read_choices(former, 7, 0)
    refusals = [
        can_change_choices(former, 7, 0, 1),
        can_manage_proxies(former, 7),
        can_vote(former, 7, False),
        can_vote(former, 8, True),
        can_read_choices(former, 8, everything),  # their appointments ended with their membership
        can_change_choices(former, 8, everything, 1),
    ]
    assert not any(refusals)
    assert [d.code for d in refusals[:4]] == ["membership-ended"] * 4  # type: ignore[union-attr]
