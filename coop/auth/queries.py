"""Reads of logins and keys: who a bearer credential is, an account's role, the API keys."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from coop.auth.models import ApiKey, TwoFactor, UserAccount
from coop.auth.policy import (
    Actor,
    Denied,
    Role,
    account_role,
    can_manage_login,
)
from coop.auth.secrets import (
    decode_token,
    same_digest,
    sha256_hex,
    split_api_key,
)
from coop.errors import Forbidden, Unauthenticated
from coop.members.models import Member, MemberStatus


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.execute(select(ApiKey).order_by(col(ApiKey.id))).scalars())


def actor_for_bearer(session: Session, secret: bytes, token: str) -> Actor:
    """Resolve an API key or a login token to an actor, checking it is still valid now."""
    parts = split_api_key(token)
    if parts is not None:
        key = session.execute(select(ApiKey).where(col(ApiKey.prefix) == parts[0])).scalar_one_or_none()
        if key is None or not same_digest(key.secret_hash, sha256_hex(parts[1])):
            raise Unauthenticated("unknown API key")
        if key.revoked_at is not None:
            raise Unauthenticated("this API key has been revoked")
        assert key.id is not None
        return Actor(kind="key", id=key.id, role=Role(key.role), org=key.org)
    claims = decode_token(secret, token)
    kind, _, raw_id = str(claims["sub"]).partition(":")
    if kind != "user" or not raw_id.isdigit() or not isinstance(claims.get("gen", 0), int):
        raise Unauthenticated("the token is not valid")
    row = session.execute(
        select(UserAccount, col(Member.status), col(TwoFactor.enabled_at))
        .outerjoin(Member, col(Member.id) == col(UserAccount.member_id))
        .outerjoin(TwoFactor, col(TwoFactor.user_id) == col(UserAccount.id))
        .where(col(UserAccount.id) == int(raw_id))
    ).one_or_none()
    if row is None or row[0].disabled_at is not None:
        raise Unauthenticated("this account no longer exists or is disabled")
    user, status, second_factor_since = row
    if claims.get("gen", 0) != user.token_generation:
        raise Unauthenticated("this login has ended (logged out, password changed, or membership ended); log in again")
    assert user.id is not None
    role = account_role(user.role, status == MemberStatus.left.value)
    return Actor(
        kind="user",
        id=user.id,
        role=role,
        member_id=user.member_id,
        second_factor=second_factor_since is not None,
        carer_id=user.carer_id,
    )


def role_of(session: Session, user: UserAccount) -> Role:
    """The role this account acts in now (a member who left acts as a former member)."""
    member = session.get(Member, user.member_id) if user.member_id is not None else None
    return account_role(user.role, member is not None and member.status == MemberStatus.left.value)


def own_account(session: Session, actor: Actor) -> UserAccount:
    """The logged-in person's own account (not for API keys)."""
    decision = can_manage_login(actor)
    if isinstance(decision, Denied):
        raise Forbidden(decision.reason, code=decision.code)
    user = session.get(UserAccount, actor.id)
    if user is None or user.disabled_at is not None:
        raise Unauthenticated("this account no longer exists or is disabled")
    return user
