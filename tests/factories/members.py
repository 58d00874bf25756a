"""Members and the people who act: the board, members who accepted their invitation and
logged in, API keys of organisations."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from fastapi.testclient import TestClient

from coop.auth import service as auth_service
from coop.auth.policy import CLI_ACTOR
from coop.db import Database
from coop.types import utcnow

BOARD_EMAIL = "board@coop-test.nl"
PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return bearer(r.json()["access_token"])


def board(client: TestClient, database: Database) -> dict[str, str]:
    """Headers of the (first) board user, created on first use."""
    if not _board_exists(database):
        with database.unit_of_work() as session:
            auth_service.bootstrap_board(
                session, CLI_ACTOR, database.settings.auth, BOARD_EMAIL, PASSWORD, now=utcnow()
            )
    return login(client, BOARD_EMAIL)


def _board_exists(database: Database) -> bool:
    from sqlalchemy import select

    from coop.auth.models import UserAccount

    with database.unit_of_work(write=False) as session:
        return session.execute(select(UserAccount.id).where(UserAccount.role == "board")).first() is not None


def api_key(database: Database, role: str, org: str = "Test organisation") -> dict[str, str]:
    with database.unit_of_work() as session:
        created = auth_service.create_api_key(session, CLI_ACTOR, org, role, now=utcnow())
    return bearer(created.token)


@dataclass(frozen=True)
class MemberHandle:
    id: int
    number: str
    email: str
    headers: dict[str, str]


def admit(client: TestClient, board_headers: dict[str, str], name: str | None = None, language: str = "nl") -> dict:
    n = next(_seq)
    body = {"name": name or f"Member {n}", "email": f"member{n}@coop-test.nl", "language": language}
    r = client.post("/api/v1/members", json=body, headers=board_headers)
    assert r.status_code == 201, r.text
    return r.json()


def member(client: TestClient, board_headers: dict[str, str], language: str = "nl") -> MemberHandle:
    """An admitted member who accepted their invitation and is logged in."""
    admitted = admit(client, board_headers, language=language)
    r = client.post(
        "/api/v1/auth/accept-invitation", json={"token": admitted["invitation_token"], "password": PASSWORD}
    )
    assert r.status_code == 201, r.text
    m = admitted["member"]
    return MemberHandle(m["id"], m["number"], m["email"], login(client, m["email"]))


def members(client: TestClient, board_headers: dict[str, str], n: int, language: str = "nl") -> list[MemberHandle]:
    return [member(client, board_headers, language) for _ in range(n)]
