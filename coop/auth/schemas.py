"""API shapes for logging in and accepting an invitation."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (OAuth2 token type, not a secret)
    expires_in: int = Field(description="seconds until the token expires")
    role: str
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
