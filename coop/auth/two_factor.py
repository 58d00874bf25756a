"""Two-factor sign-in for board users: setting up an authenticator app, switching it on with a
first code (which gives ten one-time recovery codes, shown once), checking a code at sign-in
(no code works twice), switching it off and renewing the recovery codes (both with a current
code), and the operator's reset for a lost phone.

The app's secret and the recovery codes live outside the ledger of record (see
:mod:`coop.auth.models`); what happens to them is recorded, naming only the account:
``two-factor.enabled``, ``two-factor.disabled``, ``two-factor.recovery-codes-renewed``,
``two-factor.recovery-code-used`` and ``two-factor.reset``; the account's owner is mailed
each time (:mod:`coop.auth.security_mail`).

A code is accepted by a conditional update in the database (the step must be later than the
last one accepted; a recovery code must be unused), so two sign-ins with one code at the same
moment, in any number of processes, let exactly one through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlmodel import Session, col

from coop.auth import totp
from coop.auth.models import RecoveryCode, TwoFactor, UserAccount
from coop.auth.policy import Actor, Denied, can_use_two_factor
from coop.auth.queries import own_account
from coop.auth.security_mail import Change, tell
from coop.auth.service import end_logins, normalise_email
from coop.errors import Conflict, Forbidden, NotFound
from ledger import log


@dataclass(frozen=True, slots=True)
class Status:
    """Where an account stands: no app, an app set up but not confirmed, or switched on."""

    enabled_at: datetime | None
    pending: bool
    codes_left: int


@dataclass(frozen=True, slots=True)
class Setup:
    """An app being set up: its secret, shown until a first code confirms it."""

    secret: str
    uri: str


def _may_use(actor: Actor) -> None:
    decision = can_use_two_factor(actor)
    if isinstance(decision, Denied):
        raise Forbidden(decision.reason, code=decision.code)


def _row(session: Session, user_id: int) -> TwoFactor | None:
    return session.get(TwoFactor, user_id)


def is_enabled(session: Session, user_id: int) -> bool:
    row = _row(session, user_id)
    return row is not None and row.enabled_at is not None


def status(session: Session, user_id: int) -> Status:
    row = _row(session, user_id)
    left = session.execute(
        select(func.count()).where(col(RecoveryCode.user_id) == user_id, col(RecoveryCode.used_at).is_(None))
    ).scalar_one()
    enabled = row.enabled_at if row is not None else None
    return Status(enabled_at=enabled, pending=row is not None and enabled is None, codes_left=int(left))


def own_status(session: Session, actor: Actor) -> Status:
    """Where the actor's own two-factor sign-in stands (board users)."""
    _may_use(actor)
    own_account(session, actor)
    return status(session, actor.id)


def start(session: Session, actor: Actor, app_secret: bytes, *, now: datetime) -> Setup:
    """A new secret for the actor's app, waiting for a first code (an earlier unconfirmed one
    is replaced). Nothing is recorded yet: only switching on is."""
    _may_use(actor)
    user = own_account(session, actor)
    row = _row(session, actor.id)
    if row is not None and row.enabled_at is not None:
        raise Conflict("two-factor sign-in is on already; switch it off first", code="two-factor-on")
    secret = totp.new_secret()
    if row is None:
        session.add(TwoFactor(user_id=actor.id, secret=totp.encrypt(app_secret, secret), created_at=now))
    else:
        row.secret, row.created_at, row.last_step = totp.encrypt(app_secret, secret), now, None
    session.flush()
    return Setup(secret=secret, uri=totp.provisioning_uri(secret, user.email))


def pending_setup(session: Session, actor: Actor, app_secret: bytes) -> Setup | None:
    """The app being set up, to show its QR code again until it is confirmed; None otherwise."""
    _may_use(actor)
    row = _row(session, actor.id)
    if row is None or row.enabled_at is not None:
        return None
    secret = totp.decrypt(app_secret, row.secret)
    return Setup(secret=secret, uri=totp.provisioning_uri(secret, own_account(session, actor).email))


def _new_codes(session: Session, app_secret: bytes, user_id: int, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    codes = totp.new_recovery_codes()
    session.add_all(
        RecoveryCode(user_id=user_id, code_hash=totp.recovery_hash(app_secret, code), created_at=now) for code in codes
    )
    session.flush()
    return codes


def enable(session: Session, actor: Actor, app_secret: bytes, code: str, *, now: datetime) -> list[str]:
    """Switch two-factor sign-in on with a first code of the app; the recovery codes, shown
    this once. Every earlier login ends (they were made with the password alone)."""
    _may_use(actor)
    own_account(session, actor)
    row = _row(session, actor.id)
    if row is None:
        raise Conflict("set up the authenticator app first", code="two-factor-not-started")
    if row.enabled_at is not None:
        raise Conflict("two-factor sign-in is on already", code="two-factor-on")
    step = totp.matching_step(totp.decrypt(app_secret, row.secret), totp.normalise_code(code), now)
    if step is None:
        raise Forbidden("this code is not right; type the code your app shows now", code="wrong-code")
    row.enabled_at, row.last_step = now, step
    codes = _new_codes(session, app_secret, actor.id, now)
    end_logins(session, actor.id)
    log.append(session, "two-factor.enabled", actor.ledger_name, f"user:{actor.id}", {}, at=now)
    tell(session, actor.id, Change.enabled, now)
    return codes


def check_code(session: Session, app_secret: bytes, user_id: int, code: str, *, now: datetime) -> None:
    """Accept a code of the account's app, or one of its recovery codes (used up, and
    recorded), or refuse: 403 ``wrong-code``, or ``code-used`` for an app code already
    accepted (it works once; the next one comes within 30 seconds)."""
    row = _row(session, user_id)
    if row is None or row.enabled_at is None:
        raise Forbidden("two-factor sign-in is not on for this account", code="two-factor-off")
    typed = totp.normalise_code(code)
    if totp.is_app_code(typed):
        step = totp.matching_step(totp.decrypt(app_secret, row.secret), typed, now)
        if step is None:
            raise Forbidden("this code is not right; type the code your app shows now", code="wrong-code")
        accepted = session.execute(
            update(TwoFactor)
            .where(
                col(TwoFactor.user_id) == user_id,
                or_(col(TwoFactor.last_step).is_(None), col(TwoFactor.last_step) < step),
            )
            .values(last_step=step)
            .returning(col(TwoFactor.user_id)),
            execution_options={"synchronize_session": False},
        ).scalar()
        if accepted is None:
            raise Forbidden("this code was used already; wait for the next one", code="code-used")
        return
    used = session.execute(
        update(RecoveryCode)
        .where(
            col(RecoveryCode.user_id) == user_id,
            col(RecoveryCode.code_hash) == totp.recovery_hash(app_secret, typed),
            col(RecoveryCode.used_at).is_(None),
        )
        .values(used_at=now)
        .returning(col(RecoveryCode.id)),
        execution_options={"synchronize_session": False},
    ).scalar()
    if used is None:
        raise Forbidden("this code is not right; type the code your app shows now", code="wrong-code")
    log.append(
        session, "two-factor.recovery-code-used", f"user:{user_id}", f"user:{user_id}", {"code_id": used}, at=now
    )
    tell(session, user_id, Change.recovery_code_used, now)


def _forget(session: Session, user_id: int) -> None:
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    session.execute(delete(TwoFactor).where(col(TwoFactor.user_id) == user_id))


def disable(session: Session, actor: Actor, app_secret: bytes, code: str, *, now: datetime) -> None:
    """Switch two-factor sign-in off with a current code (or a recovery code)."""
    _may_use(actor)
    own_account(session, actor)
    check_code(session, app_secret, actor.id, code, now=now)
    _forget(session, actor.id)
    log.append(session, "two-factor.disabled", actor.ledger_name, f"user:{actor.id}", {}, at=now)
    tell(session, actor.id, Change.disabled, now)


def renew_codes(session: Session, actor: Actor, app_secret: bytes, code: str, *, now: datetime) -> list[str]:
    """New recovery codes for a current code; the earlier ones stop working."""
    _may_use(actor)
    own_account(session, actor)
    check_code(session, app_secret, actor.id, code, now=now)
    codes = _new_codes(session, app_secret, actor.id, now)
    log.append(session, "two-factor.recovery-codes-renewed", actor.ledger_name, f"user:{actor.id}", {}, at=now)
    tell(session, actor.id, Change.codes_renewed, now)
    return codes


def reset(session: Session, actor: Actor, email: str, *, now: datetime) -> UserAccount:
    """The operator's way back in for someone who lost their phone and their recovery codes:
    the app and the codes are forgotten and every login of the account ends. They sign in
    with their password and (in production mode) set up an app again."""
    user = session.execute(
        select(UserAccount).where(col(UserAccount.email) == normalise_email(email))
    ).scalar_one_or_none()
    if user is None or user.id is None:
        raise NotFound("no account with this email", code="account-not-found")
    row = _row(session, user.id)
    if row is None or row.enabled_at is None:
        raise Conflict("this account has no two-factor sign-in to reset", code="two-factor-off")
    _forget(session, user.id)
    end_logins(session, user.id)
    log.append(session, "two-factor.reset", actor.ledger_name, f"user:{user.id}", {}, at=now)
    tell(session, user.id, Change.reset, now)
    return user  # type: ignore[no-any-return]
