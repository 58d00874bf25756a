"""HTTP: log in (OAuth2 password form), accept an invitation, log out, change one's
password. Logging in and accepting an invitation are public."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from pydantic import BaseModel, Field

from coop.auth import login as logins
from coop.auth import queries, service
from coop.auth.models import UserAccount
from coop.auth.schemas import AcceptInvitationIn, AccountOut, PasswordChangeIn, TokenOut
from coop.auth.secrets import issue_token
from coop.auth.throttle import LoginThrottle, client_of
from coop.db import Database
from coop.deps import CurrentActor, EnrollingActor, Now, SettingsDep, WriteSession, get_database
from coop.openapi import problems
from coop.settings import Settings
from coop.types import CleanStr, utcnow

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginForm(BaseModel):
    """The OAuth2 password form (RFC 6749 4.3): the username is the email."""

    grant_type: str | None = Field(default=None, pattern="^password$")
    username: CleanStr = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=256)
    scope: str = ""
    totp: str | None = Field(
        default=None,
        max_length=40,
        description="for an account with two-factor sign-in: the code its app shows now, or a recovery code",
    )


def login_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


def token_out(request: Request, settings: Settings, user: UserAccount, role: str) -> TokenOut:
    """A login token, issued in the wall clock's time, which its check reads as well (never the
    request's moment, which may be another)."""
    token, expires_in = issue_token(
        request.app.state.jwt_secret,
        f"user:{user.id}",
        role,
        settings.auth.token_minutes,
        user.token_generation,
        now=utcnow(),
    )
    return TokenOut(access_token=token, expires_in=expires_in, role=role, member_id=user.member_id)


@router.post(
    "/token",
    response_model=TokenOut,
    summary="Log in (public): email and password (and a two-factor code, if on) give a bearer token",
    responses=problems(
        {
            401: "unauthenticated (wrong email or password), two-factor-code-required, wrong-code, code-used",
            429: "too-many-requests",
        }
    ),
)
def login(
    request: Request,
    form: Annotated[LoginForm, Form()],
    db: Annotated[Database, Depends(get_database)],
    settings: SettingsDep,
    now: Now,
) -> TokenOut:
    client = client_of(request, settings.auth.trusted_proxies)
    throttle = login_throttle(request)
    user, role = logins.log_in(
        db,
        throttle,
        settings.auth,
        form.username,
        form.password,
        client,
        now=now,
        app_secret=request.app.state.jwt_secret,
        code=form.totp,
    )
    return token_out(request, settings, user, role.value)


@router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    summary="Log out: every login token of this account stops working (people, not API keys)",
    responses=problems({403: "not-a-login (an API key)"}),
)
def logout(session: WriteSession, actor: EnrollingActor) -> Response:
    queries.own_account(session, actor)
    service.end_logins(session, actor.id)
    return Response(status_code=204)


@router.post(
    "/password",
    response_model=TokenOut,
    summary="Change my password: every earlier login token stops working; the answer is a new one",
    responses=problems(
        {
            403: "wrong-password, not-a-login",
            422: "password-unchanged, or a new password of the wrong length",
            429: "too-many-requests",
        }
    ),
)
def change_password(
    request: Request,
    body: PasswordChangeIn,
    db: Annotated[Database, Depends(get_database)],
    actor: CurrentActor,
    settings: SettingsDep,
    now: Now,
) -> TokenOut:
    client = client_of(request, settings.auth.trusted_proxies)
    user = logins.change_password(
        db, login_throttle(request), settings.auth, actor, body.current_password, body.new_password, client, now=now
    )
    return token_out(request, settings, user, actor.role.value)


@router.post(
    "/accept-invitation",
    response_model=AccountOut,
    status_code=201,
    summary="Accept an invitation (public): set a password with the one-time token",
    responses=problems({409: "account-exists", 410: "invitation-used, invitation-expired"}),
)
def accept_invitation(body: AcceptInvitationIn, session: WriteSession, settings: SettingsDep, now: Now) -> AccountOut:
    user = service.accept_invitation(session, settings.auth, body.token, body.password, now)
    assert user.id is not None
    return AccountOut(id=user.id, email=user.email, role=user.role, member_id=user.member_id)
