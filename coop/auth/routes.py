"""HTTP: log in (OAuth2 password form) and accept an invitation. Both are public."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, Field

from coop.auth import service
from coop.auth.schemas import AcceptInvitationIn, AccountOut, TokenOut
from coop.auth.secrets import issue_token
from coop.auth.throttle import LoginThrottle
from coop.deps import ReadSession, SettingsDep, WriteSession
from coop.errors import TooManyRequests, Unauthenticated
from coop.members import service as members_service
from coop.openapi import problems
from coop.types import CleanStr

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginForm(BaseModel):
    """The OAuth2 password form (RFC 6749 4.3): the username is the email."""

    grant_type: str | None = Field(default=None, pattern="^password$")
    username: CleanStr = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=256)
    scope: str = ""


@router.post(
    "/token",
    response_model=TokenOut,
    summary="Log in (public): email and password give a bearer token",
    responses=problems({401: "unauthenticated (wrong email or password)", 429: "too-many-requests"}),
)
def login(
    request: Request,
    form: Annotated[LoginForm, Form()],
    session: ReadSession,
    settings: SettingsDep,
) -> TokenOut:
    throttle: LoginThrottle = request.app.state.login_throttle
    email = service.normalise_email(form.username)
    client = request.client.host if request.client else "unknown"
    keys = [f"email:{email}", f"client:{client}"]
    wait = throttle.retry_after(keys)
    if wait:
        raise TooManyRequests("too many failed logins; try again later", retry_after=wait)
    try:
        user = service.authenticate(session, settings.auth, email, form.password)
    except Unauthenticated:
        throttle.failed(keys)
        raise
    throttle.succeeded(f"email:{email}")
    token, expires_in = issue_token(
        request.app.state.jwt_secret, f"user:{user.id}", user.role, settings.auth.token_minutes
    )
    return TokenOut(access_token=token, expires_in=expires_in, role=user.role, member_id=user.member_id)


@router.post(
    "/accept-invitation",
    response_model=AccountOut,
    status_code=201,
    summary="Accept an invitation (public): set a password with the one-time token",
    responses=problems({409: "account-exists", 410: "invitation-used, invitation-expired"}),
)
def accept_invitation(body: AcceptInvitationIn, session: WriteSession, settings: SettingsDep) -> AccountOut:
    user = members_service.accept_invitation(session, settings.auth, body.token, body.password)
    assert user.id is not None
    return AccountOut(id=user.id, email=user.email, role=user.role, member_id=user.member_id)
