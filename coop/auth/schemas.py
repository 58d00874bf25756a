"""API shapes for logging in, accepting an invitation and changing a password."""

from __future__ import annotations

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
