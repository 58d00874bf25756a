"""Members and the people who act: the board, members who accepted their invitation and
logged in, API keys of organisations. Built below HTTP, through the services (see
:mod:`tests.factories.services`); :func:`admit_over_http` is for tests of the API itself."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import col

from coop.auth import service as auth_service
from coop.auth.models import UserAccount
from coop.auth.policy import CLI_ACTOR, Permission, Role
from coop.db import Database
from coop.members.schemas import AdmittedOut, MemberOut
from coop.types import utcnow
from tests.factories import services

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
    """Headers of the (first) board user, created on first use, logged in below HTTP."""
    if not _board_exists(database):
        with database.unit_of_work() as session, services.hashed_once():
            auth_service.bootstrap_board(
                session, CLI_ACTOR, database.settings.auth, BOARD_EMAIL, PASSWORD, now=utcnow()
            )
    with database.unit_of_work(write=False) as session:
        user = (
            session.execute(select(UserAccount).where(col(UserAccount.role) == "board").order_by(col(UserAccount.id)))
            .scalars()
            .first()
        )
        assert user is not None
        return bearer(services.login_token(client, session, user))


SECOND_BOARD_EMAIL = "treasurer@coop-test.nl"


def second_board(client: TestClient, database: Database) -> dict[str, str]:
    """Headers of a second board user, created on first use (after the first): committing a
    distribution and publishing a report need two (four eyes)."""
    board(client, database)
    with database.unit_of_work() as session:
        user = session.execute(
            select(UserAccount).where(col(UserAccount.email) == SECOND_BOARD_EMAIL)
        ).scalar_one_or_none()
        if user is None:
            with services.hashed_once():
                user = auth_service.create_account(
                    session,
                    CLI_ACTOR,
                    database.settings.auth,
                    SECOND_BOARD_EMAIL,
                    PASSWORD,
                    Role.board,
                    None,
                    now=utcnow(),
                )
        return bearer(services.login_token(client, session, user))


def _board_exists(database: Database) -> bool:
    with database.unit_of_work(write=False) as session:
        return session.execute(select(col(UserAccount.id)).where(col(UserAccount.role) == "board")).first() is not None


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


def _new_person(name: str | None, language: str) -> dict[str, str]:
    n = next(_seq)
    return {"name": name or f"Member {n}", "email": f"member{n}@coop-test.nl", "language": language}


def admit_over_http(
    client: TestClient, board_headers: dict[str, str], name: str | None = None, language: str = "nl"
) -> dict:
    """The answer of ``POST /members``: for tests of admitting through the API."""
    r = client.post("/api/v1/members", json=_new_person(name, language), headers=board_headers)
    assert r.status_code == 201, r.text
    return r.json()


def admit(client: TestClient, board_headers: dict[str, str], name: str | None = None, language: str = "nl") -> dict:
    """A member admitted by the board below HTTP, in the shape ``POST /members`` answers."""
    board_actor = services.actor_of(client, board_headers, Permission.admit_members)
    with services.database_of(client).unit_of_work() as session:
        admitted, issued = services.admit(client, session, board_actor, **_new_person(name, language))
        answer = AdmittedOut(
            member=MemberOut.of(admitted),
            invitation_token=issued.token,
            invitation_expires_at=issued.expires_at,
        )
    return answer.model_dump(mode="json")


def member(client: TestClient, board_headers: dict[str, str], language: str = "nl") -> MemberHandle:
    """An admitted member who accepted their invitation and is logged in: below HTTP, each
    step its own transaction as each was a request of its own."""
    board_actor = services.actor_of(client, board_headers, Permission.admit_members)
    database = services.database_of(client)
    with database.unit_of_work() as session:
        admitted, issued = services.admit(client, session, board_actor, **_new_person(None, language))
    with database.unit_of_work() as session:
        account = services.accept_invitation(client, session, issued.token, PASSWORD)
    with database.unit_of_work(write=False) as session:
        token = services.login_token(client, session, account)
    assert admitted.id is not None
    return MemberHandle(admitted.id, admitted.number, admitted.email, bearer(token))


def members(client: TestClient, board_headers: dict[str, str], n: int, language: str = "nl") -> list[MemberHandle]:
    return [member(client, board_headers, language) for _ in range(n)]
