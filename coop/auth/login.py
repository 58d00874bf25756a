"""Logging in and changing a password, with the login throttle around them: the one flow the
API and the portal both use. Each step is a short transaction of its own, so a failure is
counted only once the attempt has rolled back (SQLite: one writer), and a request never
holds two connections at once."""

from __future__ import annotations

from datetime import datetime

from coop.auth import queries, service
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


def log_in(
    db: Database, throttle: LoginThrottle, auth: AuthSettings, email: str, password: str, client: str, *, now: datetime
) -> tuple[UserAccount, Role]:
    """The account and its role; 429 while the throttle says wait, 401 on a wrong email or password."""
    attempt = _attempt(throttle, service.normalise_email(email), client, now)
    try:
        with db.unit_of_work(write=False) as session:
            user = service.authenticate(session, auth, email, password)
            role = queries.role_of(session, user)
    except Unauthenticated:
        throttle.failed(attempt, now=now)
        raise
    throttle.succeeded(attempt)
    return user, role


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
