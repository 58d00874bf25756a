"""FastAPI dependencies shared by every domain: the database sessions (the commit point),
the request's moment, and the actor making the request. A route without an actor dependency is public, and its
path or summary says so."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer
from sqlmodel import Session

from coop.auth import queries as auth_queries
from coop.auth.policy import Actor, Denied, Permission, has, may_act_without_second_factor
from coop.db import Database
from coop.errors import Forbidden, Unauthenticated
from coop.settings import Mode, Settings
from coop.types import ID_MAX as ID_MAX  # re-exported: routes bound their ids with it
from coop.types import utcnow


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> Settings:
    return get_database(request).settings


def _write_session(db: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with db.unit_of_work(write=True) as session:
        yield session


def _read_session(db: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with db.unit_of_work(write=False) as session:
        yield session


# scope="function": the unit of work commits before the response is sent, so a client
# that received a success knows its change is durable.
WriteSession = Annotated[Session, Depends(_write_session, scope="function")]
ReadSession = Annotated[Session, Depends(_read_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
"""The database itself, for a route that opens a unit of work of its own (a read's access record)."""


def now() -> datetime:
    """The request's moment: the one clock reading a request's services are given."""
    return utcnow()


Now = Annotated[datetime, Depends(now)]

SEQ_MAX = 2**62
"""Ledger sequence numbers and tree sizes are 64-bit."""

MemberId = Annotated[int, Path(ge=1, le=ID_MAX, description="the member's id")]

# Two ways to send the same header, both offered by /docs: people log in with the
# password flow; organisations paste their API key.
_login = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    scheme_name="login",
    description="members and board: email and password",
)
_api_key = HTTPBearer(auto_error=False, scheme_name="api-key", description="organisations: Bearer coop_...")


def _bearer_credential(
    token: Annotated[str | None, Depends(_login)],
    key: Annotated[HTTPAuthorizationCredentials | None, Depends(_api_key)],
) -> str | None:
    return token or (key.credentials if key else None)


OptionalCredential = Annotated[str | None, Depends(_bearer_credential)]
"""The bearer token or API key sent, if any, unchecked: for a route whose settings decide
whether it is public, which checks it with :func:`permitted` only when it is not."""


def _actor_of(request: Request, credential: str | None) -> Actor:
    if not credential:
        raise Unauthenticated("send 'Authorization: Bearer <token or API key>'")
    with get_database(request).unit_of_work(write=False) as session:
        return auth_queries.actor_for_bearer(session, request.app.state.jwt_secret, credential)


def _bearer_actor(request: Request, credential: OptionalCredential) -> Actor:
    return _actor_of(request, credential)


EnrollingActor = Annotated[Actor, Depends(_bearer_actor)]
"""The actor, also a board user who must still switch on two-factor sign-in (production mode):
only for setting it up and logging out."""


def _current_actor(actor: EnrollingActor, db: Annotated[Database, Depends(get_database)]) -> Actor:
    decision = may_act_without_second_factor(actor, db.settings.mode is Mode.production)
    if isinstance(decision, Denied):
        raise Forbidden(decision.reason, code=decision.code)
    return actor


CurrentActor = Annotated[Actor, Depends(_current_actor)]


def _allowed(actor: Actor, permission: Permission) -> Actor:
    if not has(actor, permission):
        raise Forbidden(f"the {actor.role} role may not do this ({permission})")
    return actor


def require(permission: Permission) -> Callable[[Actor], Actor]:
    """A dependency giving the actor when their role has ``permission``, else 403."""

    def dependency(actor: CurrentActor) -> Actor:
        return _allowed(actor, permission)

    return dependency


def permitted(request: Request, credential: str | None, permission: Permission) -> Actor:
    """What :func:`require` checks, for a route that takes an :data:`OptionalCredential`:
    the actor when their role has ``permission``; no credential or a bad one is 401, a role
    without it (or a board user still without two-factor sign-in, in production) 403."""
    actor = _current_actor(_actor_of(request, credential), get_database(request))
    return _allowed(actor, permission)
