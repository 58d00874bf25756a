"""HTTP: a board user's two-factor sign-in: where it stands, setting up an authenticator app,
switching it on with a first code (the answer holds the recovery codes, once, and a new
login), switching it off and renewing the recovery codes with a current code.

These are the calls a board user may still make in production mode before two-factor sign-in
is on (every other call answers 403 ``two-factor-required``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlmodel import Session

from coop.auth import login as logins
from coop.auth import queries, two_factor
from coop.auth.routes import login_throttle, token_out
from coop.auth.schemas import (
    RecoveryCodesOut,
    TwoFactorCodeIn,
    TwoFactorEnabledOut,
    TwoFactorSetupOut,
    TwoFactorStatusOut,
)
from coop.auth.throttle import client_of
from coop.db import Database
from coop.deps import EnrollingActor, Now, ReadSession, SettingsDep, WriteSession, get_database
from coop.openapi import problems

router = APIRouter(prefix="/auth/two-factor", tags=["auth"])
DatabaseDep = Annotated[Database, Depends(get_database)]
CODE_PROBLEMS = {403: "wrong-code, code-used, two-factor-off, not-a-board-user", 429: "too-many-requests"}


def _secret(request: Request) -> bytes:
    secret: bytes = request.app.state.jwt_secret
    return secret


@router.get(
    "",
    response_model=TwoFactorStatusOut,
    summary="My two-factor sign-in: on or off, and how many recovery codes are left (board)",
    responses=problems({403: "not-a-board-user"}),
)
def get_status(session: ReadSession, actor: EnrollingActor) -> TwoFactorStatusOut:
    found = two_factor.own_status(session, actor)
    return TwoFactorStatusOut(
        enabled=found.enabled_at is not None,
        enabled_at=found.enabled_at,
        pending=found.pending,
        recovery_codes_left=found.codes_left,
    )


@router.post(
    "/setup",
    response_model=TwoFactorSetupOut,
    summary="Set up an authenticator app (board): its secret, to confirm with a first code",
    responses=problems({403: "not-a-board-user", 409: "two-factor-on"}),
)
def set_up(request: Request, session: WriteSession, actor: EnrollingActor, now: Now) -> TwoFactorSetupOut:
    setup = two_factor.start(session, actor, _secret(request), now=now)
    return TwoFactorSetupOut(secret=setup.secret, otpauth_uri=setup.uri)


@router.post(
    "/enable",
    response_model=TwoFactorEnabledOut,
    summary="Switch two-factor sign-in on with a first code (board): recovery codes, once, and a new login",
    responses=problems({**CODE_PROBLEMS, 409: "two-factor-not-started, two-factor-on"}),
)
def enable(
    request: Request, body: TwoFactorCodeIn, db: DatabaseDep, actor: EnrollingActor, settings: SettingsDep, now: Now
) -> TwoFactorEnabledOut:
    def work(session: Session) -> list[str]:
        return two_factor.enable(session, actor, _secret(request), body.code, now=now)

    client = client_of(request, settings.auth.trusted_proxies)
    codes = logins.with_code(db, login_throttle(request), actor, client, now, work)
    with db.unit_of_work(write=False) as session:
        user = queries.own_account(session, actor)
    return TwoFactorEnabledOut(recovery_codes=codes, token=token_out(request, settings, user, actor.role.value))


@router.post(
    "/disable",
    status_code=204,
    response_class=Response,
    summary="Switch two-factor sign-in off with a current code or a recovery code (board)",
    responses=problems(CODE_PROBLEMS),
)
def disable(
    request: Request, body: TwoFactorCodeIn, db: DatabaseDep, actor: EnrollingActor, settings: SettingsDep, now: Now
) -> Response:
    client = client_of(request, settings.auth.trusted_proxies)
    logins.with_code(
        db,
        login_throttle(request),
        actor,
        client,
        now,
        lambda session: two_factor.disable(session, actor, _secret(request), body.code, now=now),
    )
    return Response(status_code=204)


@router.post(
    "/recovery-codes",
    response_model=RecoveryCodesOut,
    summary="New recovery codes for a current code (board): the earlier ones stop working",
    responses=problems(CODE_PROBLEMS),
)
def renew(
    request: Request, body: TwoFactorCodeIn, db: DatabaseDep, actor: EnrollingActor, settings: SettingsDep, now: Now
) -> RecoveryCodesOut:
    client = client_of(request, settings.auth.trusted_proxies)
    codes = logins.with_code(
        db,
        login_throttle(request),
        actor,
        client,
        now,
        lambda session: two_factor.renew_codes(session, actor, _secret(request), body.code, now=now),
    )
    return RecoveryCodesOut(recovery_codes=codes)
