"""API shapes for members."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from coop.i18n import DEFAULT_LANGUAGE, Language
from coop.members.models import Member
from coop.types import CleanStr


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: CleanStr = Field(min_length=1, max_length=200)
    email: EmailStr = Field(max_length=320)
    language: Language = DEFAULT_LANGUAGE


class MemberOut(BaseModel):
    id: int
    number: str = Field(examples=["M-000001"])
    name: str | None = Field(description="null once erased (`name_erased_at`)")
    email: str | None = Field(description="null once erased (`contact_erased_at`)")
    language: Language
    status: str
    admitted_at: datetime
    left_at: datetime | None
    erasure_requested_at: datetime | None = Field(
        default=None, description="when the former member asked to erase now what the books do not need"
    )
    contact_erased_at: datetime | None = Field(
        default=None, description="when their email address and login were erased"
    )
    name_erased_at: datetime | None = Field(
        default=None, description="when their name was erased (after the retention period for the books)"
    )

    @classmethod
    def of(cls, m: Member) -> MemberOut:
        assert m.id is not None
        return cls(
            id=m.id,
            number=m.number,
            name=m.shown_name,
            email=m.shown_email,
            language=Language(m.language),
            status=m.status,
            admitted_at=m.admitted_at,
            left_at=m.left_at,
            erasure_requested_at=m.erasure_requested_at,
            contact_erased_at=m.contact_erased_at,
            name_erased_at=m.name_erased_at,
        )


class InvitationOut(BaseModel):
    invitation_token: str = Field(description="shown once; the member sets a password with it")
    invitation_expires_at: datetime


class AdmittedOut(InvitationOut):
    member: MemberOut


class MemberPage(BaseModel):
    items: list[MemberOut]
    total: int
    limit: int
    offset: int


class ImportedOut(BaseModel):
    line: int = Field(description="the row's line in the file (the header is line 1)")
    number: str = Field(examples=["M-000001"])


class RefusedOut(BaseModel):
    line: int
    code: str = Field(
        description="invalid-name, invalid-email, unknown-language, invalid-reference, duplicate-in-file, "
        "member-exists or reference-exists"
    )
    reason: str


class ImportReportOut(BaseModel):
    rows: int = Field(description="rows read, the header and blank lines aside")
    admitted: list[ImportedOut]
    refused: list[RefusedOut]
    already_members: int = Field(description="refused rows that are members already (a repeated import)")


class NameIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: CleanStr = Field(min_length=1, max_length=200)


class EmailChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: EmailStr = Field(max_length=320, description="the new address; a link to confirm it is mailed there")


class EmailChangeOut(BaseModel):
    status: str = Field(default="pending", description="pending: nothing changes until the link is followed")
    expires_at: datetime = Field(description="when the link mailed to the new address stops working")


class EmailConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200, description="from the link mailed to the new address")


class EmailChangedOut(BaseModel):
    email: str = Field(description="the member's email address now, and their login's")
