"""Password hashing (Argon2id via pwdlib), bearer tokens (JWT, HS256) and API key material."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from coop.errors import Unauthenticated

API_KEY_PREFIX = "coop_"


@lru_cache(maxsize=4)
def password_hasher(time_cost: int, memory_kib: int) -> PasswordHash:
    return PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1),))


@lru_cache(maxsize=4)
def dummy_hash(time_cost: int, memory_kib: int) -> str:
    """A hash to verify against when no account matches, so timing does not reveal it."""
    return password_hasher(time_cost, memory_kib).hash(secrets.token_urlsafe(16))


def issue_token(
    secret: bytes, subject: str, role: str, minutes: int, generation: int = 0, *, now: datetime
) -> tuple[str, int]:
    """A login token issued at ``now``; ``generation`` is the account's token generation when
    it was issued (the token stops working once the account's generation moves on)."""
    claims = {
        "sub": subject,
        "role": role,
        "gen": generation,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm="HS256"), minutes * 60


def decode_token(secret: bytes, token: str) -> dict[str, Any]:
    try:
        return jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub", "exp", "iat"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("the token has expired; log in again") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("the token is not valid") from exc


@dataclass(frozen=True, slots=True)
class NewApiKey:
    prefix: str
    secret: str

    @property
    def token(self) -> str:
        return f"{API_KEY_PREFIX}{self.prefix}_{self.secret}"


def new_api_key() -> NewApiKey:
    return NewApiKey(prefix=secrets.token_hex(6), secret=secrets.token_urlsafe(32))


def split_api_key(token: str) -> tuple[str, str] | None:
    if not token.startswith(API_KEY_PREFIX):
        return None
    prefix, sep, secret = token[len(API_KEY_PREFIX) :].partition("_")
    return (prefix, secret) if sep and prefix and secret else None


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


def new_invitation_token() -> str:
    return secrets.token_urlsafe(32)
