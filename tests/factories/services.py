"""The product's services as the factories call them below HTTP, for tests that are not
about the API: with the application's own database and moment (the test's clock), the
actor a bearer credential stands for, and a login token made as the login route makes it.

Every service call of the factories goes through one function here, so that a change of a
service's signature is followed in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from coop import deps
from coop.auth import queries as auth_queries
from coop.auth import service as auth_service
from coop.auth.models import UserAccount
from coop.auth.policy import Actor, Permission, has
from coop.auth.secrets import issue_token
from coop.db import Database
from coop.errors import Forbidden
from coop.i18n import Language
from coop.members import service as members_service
from coop.members.models import Member
from coop.permits import manifests as manifests_service
from coop.permits import service as permits_service
from coop.permits.models import Manifest, Permit
from coop.permits.schemas import PermitIn
from coop.settings import AuthSettings
from coop.types import utcnow


def app_of(client: TestClient) -> FastAPI:
    return cast(FastAPI, client.app)


def database_of(client: TestClient) -> Database:
    """The database the application under test writes to (the test's database)."""
    return cast(Database, app_of(client).state.db)


def now_of(client: TestClient) -> datetime:
    """The moment a request would be given now: the test's clock when it overrides the app's."""
    clock = cast(Callable[[], datetime], app_of(client).dependency_overrides.get(deps.now, deps.now))
    return clock()


def actor_of(client: TestClient, headers: dict[str, str], permission: Permission | None = None) -> Actor:
    """The actor these headers stand for, as a route's actor dependency finds them (and, with
    ``permission``, refused as a route requiring it would refuse them)."""
    credential = headers["Authorization"].removeprefix("Bearer ")
    with database_of(client).unit_of_work(write=False) as session:
        actor = auth_queries.actor_for_bearer(session, app_of(client).state.jwt_secret, credential)
    if permission is not None and not has(actor, permission):
        raise Forbidden(f"the {actor.role} role may not do this ({permission})")
    return actor


def login_token(client: TestClient, session: Session, user: UserAccount) -> str:
    """A login token for this account, as logging in would give (no password checked)."""
    role = auth_queries.role_of(session, user)
    settings = database_of(client).settings
    token, _ = issue_token(
        app_of(client).state.jwt_secret,
        f"user:{user.id}",
        role.value,
        settings.auth.token_minutes,
        user.token_generation,
        now=utcnow(),  # the real clock, as the login route: PyJWT checks the token's times against it
    )
    return token


def admit(
    client: TestClient, session: Session, actor: Actor, name: str, email: str, language: str
) -> tuple[Member, members_service.IssuedInvitation]:
    auth = database_of(client).settings.auth
    return members_service.admit(session, actor, auth, name, email, Language(language), now_of(client))


_HASHES: dict[tuple[int, int, str], str] = {}
_hash_password = auth_service.hash_password


def _hash_once(auth: AuthSettings, password: str, field: str = "password") -> str:
    key = (auth.argon2_time_cost, auth.argon2_memory_kib, password)
    if key not in _HASHES:
        _HASHES[key] = _hash_password(auth, password, field)
    auth_service.check_password_rules(password, field)
    return _HASHES[key]


@contextmanager
def hashed_once() -> Iterator[None]:
    """The factories' accounts share one Argon2 hash per password (made by the product's own
    hasher, so logging in verifies it as any other), as the demo cooperative's members do
    (``create_account(password_hash=...)``): hashing was a large part of the cost of making a member,
    and the suite makes thousands. The tests of passwords themselves go through the API."""
    auth_service.hash_password = _hash_once
    try:
        yield
    finally:
        auth_service.hash_password = _hash_password


def accept_invitation(client: TestClient, session: Session, token: str, password: str) -> UserAccount:
    auth = database_of(client).settings.auth
    with hashed_once():
        return auth_service.accept_invitation(session, auth, token, password, now_of(client))


def register_permit(client: TestClient, session: Session, actor: Actor, body: dict[str, Any]) -> Permit:
    """The permit ``body`` (as ``POST /permits`` takes it) describes, registered by ``actor``."""
    given = PermitIn.model_validate(body)
    new = given.new()
    permit, _ = permits_service.register(session, actor, new, now_of(client))
    return permit


def make_manifest(client: TestClient, session: Session, actor: Actor, permit: Permit) -> Manifest:
    settings = database_of(client).settings
    return manifests_service.create(session, actor, permit, settings, now_of(client))
