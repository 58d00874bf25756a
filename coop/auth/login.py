"""Logging in (the password, then for an account with two-factor sign-in a code of its app or
a recovery code) and changing a password, with the login throttle around them: the one flow
the API and the portal both use. A wrong code counts as a failed login, as a wrong password
does. Each step is a short transaction of its own, so a failure is
counted only once the attempt has rolled back (SQLite: one writer), and a request never
holds two connections at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlmodel import Session

from coop.auth import queries, service, two_factor
from coop.auth.models import UserAccount
from coop.auth.policy import Actor, Role
from coop.auth.throttle import Attempt, LoginThrottle
from coop.db import Database
from coop.errors import Forbidden, TooManyRequests, Unauthenticated
from coop.settings import AuthSettings


def _attempt(throttle: LoginThrottle, email: str, client: str, now: datetime) -> Attempt:
    attempt = throttle.attempt(email, client, now=now)
    if attempt.wait:
        raise TooManyRequests(f"too many failed logins; try again in {attempt.wait} seconds", retry_after=attempt.wait)
    return attempt


T = TypeVar("T")
CODE_REFUSALS = frozenset({"wrong-code", "code-used"})
"""Refusals of a code that count as a failed login (a guess at it)."""


@dataclass(frozen=True, slots=True)
class PasswordChecked:
    """The password was right: the account, its role, and whether a code must follow."""

    user: UserAccount
    role: Role
    needs_code: bool


def check_password(
    db: Database, throttle: LoginThrottle, auth: AuthSettings, email: str, password: str, client: str, *, now: datetime
) -> PasswordChecked:
    """The first step; 429 while the throttle says wait, 401 on a wrong email or password. The
    failures are forgotten only once the whole sign-in succeeded."""
    attempt = _attempt(throttle, service.normalise_email(email), client, now)
    try:
        with db.unit_of_work(write=False) as session:
            user = service.authenticate(session, auth, email, password)
            role = queries.role_of(session, user)
            assert user.id is not None
            needs_code = two_factor.is_enabled(session, user.id)
    except Unauthenticated:
        throttle.failed(attempt, now=now)
        raise
    if not needs_code:
        throttle.succeeded(attempt)
    return PasswordChecked(user, role, needs_code)


def guarded(
    db: Database, throttle: LoginThrottle, email: str, client: str, now: datetime, work: Callable[[Session], T]
) -> T:
    """``work`` (which checks a code) in a unit of work of its own, throttled as a login of
    ``email``: a wrong or used code counts as a failure, after the unit of work rolled back."""
    attempt = _attempt(throttle, email, client, now)
    try:
        with db.unit_of_work() as session:
            result = work(session)
    except Forbidden as exc:
        if exc.code in CODE_REFUSALS:
            throttle.failed(attempt, now=now)
        raise
    throttle.succeeded(attempt)
    return result


def with_code(
    db: Database, throttle: LoginThrottle, actor: Actor, client: str, now: datetime, work: Callable[[Session], T]
) -> T:
    """:func:`guarded` for the logged-in person's own account (switching two-factor sign-in
    on or off, new recovery codes)."""
    with db.unit_of_work(write=False) as session:
        email = queries.own_account(session, actor).email
    return guarded(db, throttle, email, client, now, work)


def check_second_factor(
    db: Database,
    throttle: LoginThrottle,
    app_secret: bytes,
    user_id: int,
    generation: int,
    code: str,
    client: str,
    *,
    now: datetime,
) -> tuple[UserAccount, Role]:
    """The second step, for the account whose password was right (and whose logins did not end
    since: ``generation``); 401 ``wrong-code`` or ``code-used``, 429 while the throttle says wait."""
    with db.unit_of_work(write=False) as session:
        user = session.get(UserAccount, user_id)
        if user is None or user.disabled_at is not None or user.token_generation != generation:
            raise Unauthenticated("the sign-in is not valid; enter your password again", code="challenge-expired")
        email, role = user.email, queries.role_of(session, user)

    def work(session: Session) -> UserAccount:
        two_factor.check_code(session, app_secret, user_id, code, now=now)
        found = session.get(UserAccount, user_id)
        assert found is not None
        return found

    try:
        return guarded(db, throttle, email, client, now, work), role
    except Forbidden as exc:
        raise Unauthenticated(exc.detail, code=exc.code) from exc


def log_in(
    db: Database,
    throttle: LoginThrottle,
    auth: AuthSettings,
    email: str,
    password: str,
    client: str,
    *,
    now: datetime,
    app_secret: bytes = b"",
    code: str | None = None,
) -> tuple[UserAccount, Role]:
    """Both steps at once (the API): the account and its role. An account with two-factor
    sign-in needs ``code``: without it, 401 ``two-factor-code-required``."""
    checked = check_password(db, throttle, auth, email, password, client, now=now)
    if not checked.needs_code:
        return checked.user, checked.role
    if not code:
        raise Unauthenticated(
            "this account has two-factor sign-in: send the code of your app (or a recovery code) as 'totp'",
            code="two-factor-code-required",
        )
    assert checked.user.id is not None
    user_id, generation = checked.user.id, checked.user.token_generation
    return check_second_factor(db, throttle, app_secret, user_id, generation, code, client, now=now)


def change_password(
    db: Database,
    throttle: LoginThrottle,
    auth: AuthSettings,
    actor: Actor,
    current: str,
    new: str,
    client: str,
    *,
    now: datetime,
) -> UserAccount:
    """A new password (every earlier login ends); a wrong current password counts as a failed login."""
    with db.unit_of_work(write=False) as session:
        email = queries.own_account(session, actor).email
    attempt = _attempt(throttle, email, client, now)
    try:
        with db.unit_of_work() as session:
            return service.change_password(session, actor, auth, current, new, now=now)
    except Forbidden as exc:
        if exc.code == "wrong-password":  # a guess at the password, like a failed login
            throttle.failed(attempt, now=now)
        raise
