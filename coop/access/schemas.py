"""API output of the access log: a member's reads by others, and the auditor's counts."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from coop.access.queries import AccessView, SummaryRow


class AccessOut(BaseModel):
    at: datetime
    role: str = Field(description="board, proxy, carer, hdab, data-holder or auditor")
    purpose: str = Field(description="member-administration, acting-as-proxy, statement or manifest-download")
    what: str = Field(description="member-page, member-details, member-list, choices, history, data-use, manifest, ...")
    reader: str = Field(description="who read, in words that name no other member", examples=["the board (user:3)"])
    permit: str | None = Field(default=None, description="for a manifest download: the permit's number")
    organisation: str | None = Field(default=None, description="for an organisation's key: its name")

    @classmethod
    def of(cls, v: AccessView) -> AccessOut:
        return cls(
            at=v.at,
            role=v.role,
            purpose=v.purpose,
            what=v.what,
            reader=v.reader,
            permit=v.permit,
            organisation=v.organisation,
        )


class AccessPage(BaseModel):
    member_id: int
    items: list[AccessOut]
    total: int
    limit: int
    offset: int


class SummaryOut(BaseModel):
    month: str = Field(examples=["2026-11"])
    role: str
    purpose: str
    what: str
    reads: int | str = Field(description="how many reads; 1 to threshold-1 shown as '<threshold'")

    @classmethod
    def of(cls, r: SummaryRow) -> SummaryOut:
        return cls(month=r.month, role=r.role, purpose=r.purpose, what=r.what, reads=r.reads)


class SummaryPage(BaseModel):
    threshold: int = Field(description="counts below this are shown as '<threshold'")
    rows: list[SummaryOut]
