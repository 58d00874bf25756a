"""API shapes for consultations. No member is ever named in them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from coop.hdab.models import Consultation
from coop.types import CleanStr
from coop.vocabulary.terms import Category, UserType
from ledger import canonical


class ConsultationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_ref: str = Field(pattern=r"^[A-Za-z0-9._/-]{1,80}$", description="the HDAB's reference")
    applicant: CleanStr = Field(min_length=1, max_length=200)
    user_type: UserType
    purposes: list[str] = Field(
        min_length=1, max_length=13, description="Art. 53 purposes; Art. 54 uses are objected to"
    )
    categories: list[Category] = Field(min_length=1, max_length=len(Category))
    duration_months: int = Field(ge=1, le=240)
    offered_benefit_share_pct: int = Field(ge=0, le=100)
    open_results: bool
    processing_in_eu: bool
    ethics_review_approved: bool = False
    expected_benefit: CleanStr = Field(max_length=4000)
    on_behalf_of_public_body: bool = Field(
        default=False,
        description="true when the applicant processes the data on behalf of a public-sector body "
        "(EHDS Art. 53(2)): the use is then decided as that body's, also for the purposes reserved to it",
    )


class ReasonOut(BaseModel):
    code: str
    message: str
    article: str
    about: str | None = Field(
        default=None,
        description="what the reason is about, as a code: the purpose or use, the sensitive categories "
        "(comma-separated), the months asked, or the value a mandate condition asks (absent before this version)",
    )


class CohortOut(BaseModel):
    eligible: int | str = Field(description="0, '<10', or rounded to the nearest 10")
    excluded: dict[str, int | str] = Field(description="by reason, published the same way")


class ConsultationOut(BaseModel):
    id: int
    application_ref: str
    position: str = Field(description="support, conditional or object")
    reasons: list[ReasonOut]
    cohort: CohortOut
    mandate_version: int
    ledger_seq: int
    asked_at: datetime
    request: dict[str, Any]

    @classmethod
    def of(cls, c: Consultation) -> ConsultationOut:
        assert c.id is not None
        answer = canonical.loads(c.answer)
        return cls(
            id=c.id,
            application_ref=c.application_ref,
            position=answer["position"],
            reasons=answer["reasons"],
            cohort=answer["cohort"],
            mandate_version=c.mandate_version,
            ledger_seq=c.ledger_seq,
            asked_at=c.asked_at,
            request=canonical.loads(c.request),
        )
