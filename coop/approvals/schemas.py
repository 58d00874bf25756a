"""API shapes of the requests for four eyes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from coop.approvals.models import BoardApproval
from coop.i18n import LANGUAGES, Language
from coop.money.schemas import DistributionOut


class PublishRequestIn(BaseModel):
    languages: list[Language] = Field(
        default_factory=lambda: list(Language),
        min_length=1,
        max_length=len(LANGUAGES),
        description="the report's languages to publish (default: every language)",
    )


class ApprovalOut(BaseModel):
    id: int
    action: str = Field(description="distribution.commit or report.publish")
    target: str = Field(description="distribution:{id} or report:annual:{year}")
    distribution_id: int | None
    year: int | None
    languages: list[str]
    pinned: str = Field(description="what was asked about: the draft's digest, or SHA-256 of the report's figures")
    status: str = Field(description="waiting, approved, declined or withdrawn")
    requested_by: str = Field(description="the ledger's name of the board user who asked")
    requested_at: datetime
    decided_by: str | None = Field(description="the ledger's name of the board user who decided (or withdrew)")
    decided_at: datetime | None

    @classmethod
    def of(cls, row: BoardApproval) -> ApprovalOut:
        assert row.id is not None
        return cls(
            id=row.id,
            action=row.action,
            target=row.target,
            distribution_id=row.distribution_id,
            year=row.year,
            languages=row.language_list,
            pinned=row.pinned,
            status=row.outcome or "waiting",
            requested_by=row.requested_by,
            requested_at=row.requested_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
        )


class PublishedOut(BaseModel):
    year: int
    lang: str
    sha256: str
    tree_size: int
    ledger_seq: int
    requested_by: str | None = None
    approved_by: str | None = None


class ApprovedOut(BaseModel):
    approval: ApprovalOut
    distribution: DistributionOut | None = Field(description="the committed distribution (distribution.commit)")
    published: list[PublishedOut] = Field(description="each language's publication (report.publish)")
