"""Accounts and keys: logging in, accepting an invitation to make an account, ending logins,
changing a password, the first board user, organisations' API keys, and turning a bearer
credential into an :class:`~coop.auth.policy.Actor`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from coop.auth.models import ApiKey, UserAccount
from coop.auth.policy import (
    ORG_ROLES,
    USER_ROLES,
    Actor,
    Permission,
    Role,
    has,
)
from coop.auth.queries import own_account
from coop.auth.secrets import (
    dummy_hash,
    new_api_key,
    password_hasher,
    sha256_hex,
)
from coop.errors import Conflict, Forbidden, Gone, Invalid, NotFound, Unauthenticated
from coop.members.models import Invitation, Member, MemberStatus
from coop.settings import AuthSettings
from ledger import log

MIN_PASSWORD = 10
MAX_PASSWORD = 256


def check_password_rules(password: str, field: str = "password") -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise Invalid(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters", field=field)


def hash_password(auth: AuthSettings, password: str, field: str = "password") -> str:
    check_password_rules(password, field)
    return password_hasher(auth.argon2_time_cost, auth.argon2_memory_kib).hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(session: Session, auth: AuthSettings, email: str, password: str) -> UserAccount:
    """The account these credentials open, or Unauthenticated (same answer for any failure)."""
    hasher = password_hasher(auth.argon2_time_cost, auth.argon2_memory_kib)
    user = session.execute(
        select(UserAccount).where(col(UserAccount.email) == normalise_email(email))
    ).scalar_one_or_none()
    if user is None or user.disabled_at is not None:
        hasher.verify(password, dummy_hash(auth.argon2_time_cost, auth.argon2_memory_kib))
        raise Unauthenticated("wrong email or password")
    if not hasher.verify(password, user.password_hash):
        raise Unauthenticated("wrong email or password")
    return user  # type: ignore[no-any-return]


def create_account(
    session: Session,
    actor: Actor,
    auth: AuthSettings,
    email: str,
    password: str,
    role: Role,
    member_id: int | None,
    password_hash: str | None = None,
    invitation_id: int | None = None,
    *,
    now: datetime,
    carer_id: int | None = None,
) -> UserAccount:
    """A login made at ``now``; ``password_hash`` (a hash of ``password`` made earlier) spares
    hashing again, for the demo cooperative's thousands of members who share one public
    password. ``invitation_id`` names the invitation the member accepted to make it, if any;
    ``carer_id`` the carer whose login it is (role ``carer``)."""
    if role not in USER_ROLES:
        raise Invalid(f"people log in as member, carer or board, not {role}", field="role")
    email = normalise_email(email)
    if session.execute(select(col(UserAccount.id)).where(col(UserAccount.email) == email)).first():
        raise Conflict("an account with this email already exists", code="account-exists")
    user = UserAccount(
        email=email,
        password_hash=password_hash or hash_password(auth, password),
        role=role.value,
        member_id=member_id,
        carer_id=carer_id,
        created_at=now,
    )
    session.add(user)
    session.flush()
    log.append(
        session,
        "account.created",
        actor.ledger_name,
        f"user:{user.id}",
        {"role": role.value, "member_id": member_id, "invitation_id": invitation_id, "carer_id": carer_id},
        at=user.created_at,
    )
    return user


def accept_invitation(session: Session, auth: AuthSettings, token: str, password: str, now: datetime) -> UserAccount:
    """The member's account, made with the one-time token of the invitation the board sent when
    admitting them (see :mod:`coop.members.service`); the invitation is used up."""
    check_password_rules(password)
    invitation = session.execute(
        select(Invitation).where(col(Invitation.token_hash) == sha256_hex(token))
    ).scalar_one_or_none()
    if invitation is None or invitation.withdrawn_at is not None:
        raise Invalid("this invitation is not valid", code="invitation-invalid", field="token")
    if invitation.used_at is not None:
        raise Gone("this invitation has been used already; log in instead", code="invitation-used")
    if invitation.expires_at <= now:
        raise Gone("this invitation has expired; ask the board for a new one", code="invitation-expired")
    member = session.get(Member, invitation.member_id)
    assert member is not None
    if member.status == MemberStatus.left.value:  # withdrawn when leaving; this guards invitations from before
        raise Gone("this membership has ended; the invitation cannot be used", code="member-left")
    newcomer = Actor(kind="member", id=invitation.member_id, role=Role.member, member_id=invitation.member_id)
    account = create_account(
        session,
        newcomer,
        auth,
        member.email,
        password,
        Role.member,
        member.id,
        invitation_id=invitation.id,
        now=now,
    )
    invitation.used_at = account.created_at  # the account.created event names the invitation and proves the time
    session.flush()
    return account


def bootstrap_board(
    session: Session, actor: Actor, auth: AuthSettings, email: str, password: str, *, now: datetime
) -> UserAccount:
    """The first board user, made at ``now``. Later board users are created by the board (a later issue)."""
    existing = session.execute(select(func.count()).where(col(UserAccount.role) == Role.board.value)).scalar_one()
    if existing:
        raise Conflict("a board user exists already; bootstrap-board only creates the first one", code="board-exists")
    return create_account(session, actor, auth, email, password, Role.board, None, now=now)


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    token: str


def _may_manage_keys(actor: Actor) -> None:
    if not has(actor, Permission.manage_api_keys):
        raise Forbidden("only the board makes and revokes organisations' keys", code="forbidden")


def create_api_key(session: Session, actor: Actor, org: str, role: str, *, now: datetime) -> CreatedKey:
    """A key for an organisation, made at ``now``; its token is shown once and stored as SHA-256."""
    _may_manage_keys(actor)
    try:
        parsed = Role(role)
    except ValueError:
        parsed = None
    if parsed not in ORG_ROLES:
        allowed = ", ".join(sorted(r.value for r in ORG_ROLES))
        raise Invalid(f"unknown organisation role {role!r}; use one of: {allowed}", field="role")
    org = org.strip()
    if not 1 <= len(org) <= 200:
        raise Invalid("an organisation name has 1 to 200 characters", field="org")
    material = new_api_key()
    key = ApiKey(org=org, role=role, prefix=material.prefix, secret_hash=sha256_hex(material.secret), created_at=now)
    session.add(key)
    session.flush()
    log.append(
        session,
        "api-key.created",
        actor.ledger_name,
        f"key:{key.id}",
        {"role": role, "org": org, "prefix": key.prefix},
        at=key.created_at,
    )
    return CreatedKey(key, material.token)


def revoke_api_key(session: Session, actor: Actor, key_id: int, *, now: datetime) -> ApiKey:
    """The key, revoked at ``now`` (a key revoked earlier keeps its moment)."""
    _may_manage_keys(actor)
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"no API key {key_id}", code="api-key-not-found")
    if key.revoked_at is None:
        key.revoked_at = now
        session.flush()
        log.append(session, "api-key.revoked", actor.ledger_name, f"key:{key.id}", {}, at=key.revoked_at)
    return key


def end_logins(session: Session, user_id: int) -> int:
    """End every login token of this account issued until now, by raising its token
    generation in the database itself (simultaneous calls each count). The new generation."""
    generation: int = session.execute(
        update(UserAccount)
        .where(col(UserAccount.id) == user_id)
        .values(token_generation=col(UserAccount.token_generation) + 1)
        .returning(col(UserAccount.token_generation)),
        execution_options={"synchronize_session": "fetch"},
    ).scalar_one()
    return generation


def end_member_logins(session: Session, member_id: int) -> None:
    """End the logins of the member's account, if they have one."""
    user_id = session.execute(select(col(UserAccount.id)).where(col(UserAccount.member_id) == member_id)).scalar()
    if user_id is not None:
        end_logins(session, user_id)


def change_password(
    session: Session, actor: Actor, auth: AuthSettings, current: str, new: str, *, now: datetime
) -> UserAccount:
    """Set a new password at ``now`` after checking the current one, and end every earlier login.

    Simultaneous changes take turns (the writers' lock, see :mod:`coop.db`), so each checks
    the password the previous one left. Recorded in the ledger of record without any secret."""
    user = own_account(session, actor)
    hasher = password_hasher(auth.argon2_time_cost, auth.argon2_memory_kib)
    if not hasher.verify(current, user.password_hash):
        raise Forbidden("the current password is not right", code="wrong-password")
    if new == current:
        raise Invalid(
            "the new password must differ from the current one", code="password-unchanged", field="new_password"
        )
    user.password_hash = hash_password(auth, new, field="new_password")
    session.flush()
    end_logins(session, actor.id)
    log.append(session, "account.password-changed", actor.ledger_name, f"user:{actor.id}", {}, at=now)
    return user
