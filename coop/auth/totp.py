"""The material of two-factor sign-in: authenticator-app codes (TOTP, RFC 6238: six digits,
30-second steps, SHA-1, as every common app expects), the app's secret encrypted at rest,
one-time recovery codes kept as keyed hashes, the QR code shown at enrolment (inline SVG, no
image library), and the short-lived signed token that carries a sign-in from the password
step to the code step.

Every key here is derived from the installation's secret (``COOP_AUTH_SECRET_FILE``) with
HMAC-SHA-256 under a label of its own, so a key of one use never opens another: a sign-in's
challenge token cannot pass as a login token, and a database copy without the secret file
holds neither the apps' secrets nor guessable recovery codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import jwt
import pyotp
import qrcode
import qrcode.image.svg
from cryptography.fernet import Fernet, InvalidToken

from coop.errors import Unauthenticated

ISSUER = "Cooperative"
STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1
"""Codes of one step before and after the current one are accepted too (clocks drift)."""
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed without doubt
RECOVERY_LENGTH = 10
CHALLENGE_MINUTES = 5
CHALLENGE_PURPOSE = "two-factor-challenge"


def _key(app_secret: bytes, label: str) -> bytes:
    return hmac.new(app_secret, f"coop:{label}".encode(), hashlib.sha256).digest()


def _cipher(app_secret: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_key(app_secret, "two-factor-secret")))


def new_secret() -> str:
    """A fresh app secret: 160 random bits in base32, as RFC 4226 recommends."""
    return pyotp.random_base32(32)


def encrypt(app_secret: bytes, secret: str) -> str:
    return _cipher(app_secret).encrypt(secret.encode()).decode()


def decrypt(app_secret: bytes, stored: str) -> str:
    """The app secret; a stored value the installation's secret does not open counts as no app."""
    try:
        return _cipher(app_secret).decrypt(stored.encode()).decode()
    except InvalidToken as exc:
        raise Unauthenticated("the authenticator app cannot be checked; ask the board to reset it") from exc


def provisioning_uri(secret: str, email: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str, title: str) -> str:
    """The QR code of ``uri`` as an inline SVG element with an accessible name."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=8, border=2)
    root = image.get_image()
    root.set("role", "img")
    root.set("aria-label", title)
    for key in ("width", "height"):  # the page's style gives the size, so it fits narrow screens
        root.attrib.pop(key, None)
    return ET.tostring(root, encoding="unicode")


def grouped(secret: str) -> str:
    """The secret in groups of four characters, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def step_at(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def is_app_code(code: str) -> bool:
    """Six ASCII digits (other scripts' digits are no app's code, and would not compare)."""
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step ``code`` belongs to, within the window around ``now``; None when it is
    no current code."""
    if not is_app_code(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = step_at(now)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def normalise_code(code: str) -> str:
    """A typed code without spaces and hyphens, in lower case."""
    return "".join(ch for ch in code.strip().lower() if ch not in " -\t")


def new_recovery_codes() -> list[str]:
    """Fresh recovery codes, shown once: ten groups like ``k7mqz-4tdhp`` (about 49 bits each)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def recovery_hash(app_secret: bytes, code: str) -> str:
    return hmac.new(_key(app_secret, "recovery-code"), normalise_code(code).encode(), hashlib.sha256).hexdigest()


def issue_challenge(app_secret: bytes, user_id: int, generation: int, *, now: datetime) -> str:
    """A signed token saying the password of ``user_id`` was right at ``now``; it only lets
    the code step go on, for :data:`CHALLENGE_MINUTES`."""
    claims = {
        "sub": f"user:{user_id}",
        "purpose": CHALLENGE_PURPOSE,
        "gen": generation,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=CHALLENGE_MINUTES)).timestamp()),
    }
    return jwt.encode(claims, _key(app_secret, CHALLENGE_PURPOSE), algorithm="HS256")


def read_challenge(app_secret: bytes, token: str) -> tuple[int, int]:
    """The account and token generation a challenge was issued for; 401 once it expired or
    when it is not one."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, _key(app_secret, CHALLENGE_PURPOSE), algorithms=["HS256"], options={"require": ["sub", "exp"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("the sign-in took too long; enter your password again", code="challenge-expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("the sign-in is not valid; enter your password again", code="challenge-expired") from exc
    kind, _, raw_id = str(claims["sub"]).partition(":")
    generation = claims.get("gen")
    if claims.get("purpose") != CHALLENGE_PURPOSE or kind != "user" or not raw_id.isdigit():
        raise Unauthenticated("the sign-in is not valid; enter your password again", code="challenge-expired")
    if not isinstance(generation, int):
        raise Unauthenticated("the sign-in is not valid; enter your password again", code="challenge-expired")
    return int(raw_id), generation
