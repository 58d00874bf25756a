"""API shapes for logging in, accepting an invitation and changing a password."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (OAuth2 token type, not a secret)
    expires_in: int = Field(description="seconds until the token expires")
    role: str = Field(description="member, former_member (a member who left) or board")
    member_id: int | None


class AcceptInvitationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=10, max_length=200)
    password: str = Field(min_length=10, max_length=256)


class AccountOut(BaseModel):
    id: int
    email: str
    role: str
    member_id: int | None


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=10, max_length=256)


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org: str = Field(min_length=1, max_length=200, description="the organisation the key is for")
    role: str = Field(description="hdab, data_holder or auditor")


class ApiKeyOut(BaseModel):
    """An organisation's key, without its secret (only its SHA-256 is kept)."""

    id: int
    org: str
    role: str
    prefix: str = Field(description="the key's public first part, to recognise it in logs")
    created_at: datetime
    revoked_at: datetime | None


class CreatedApiKeyOut(ApiKeyOut):
    token: str = Field(description="the whole key, shown this once: send it as `Authorization: Bearer <token>`")


class BoardUserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    language: str = Field(default="nl", pattern="^(nl|en)$", description="the language of the welcome message")


class BoardUserOut(BaseModel):
    id: int
    email: str
    created_at: datetime
    disabled_at: datetime | None = Field(description="when the board user was removed")


class TwoFactorStatusOut(BaseModel):
    enabled: bool = Field(description="two-factor sign-in is on: every sign-in asks for a code")
    enabled_at: datetime | None
    pending: bool = Field(description="an app was set up and waits for a first code")
    recovery_codes_left: int


class TwoFactorSetupOut(BaseModel):
    """An authenticator app being set up: add it by the otpauth address (as a QR code) or by
    typing the secret, then confirm with a code. The secret is not shown again once confirmed."""

    secret: str = Field(description="the app's secret in base32 (RFC 6238: SHA-1, 6 digits, 30 seconds)")
    otpauth_uri: str


class TwoFactorCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=6, max_length=40, description="the code the app shows now, or a recovery code")


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(description="one-time codes for signing in without the app, shown this once")


class TwoFactorEnabledOut(RecoveryCodesOut):
    token: TokenOut = Field(description="a new login: every earlier one ended when two-factor sign-in went on")
