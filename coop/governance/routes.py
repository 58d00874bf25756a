"""HTTP: the mandate and benefit policy in force at any time (public: they are the
cooperative's own rules)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from coop.deps import ReadSession
from coop.governance import service
from coop.governance.documents import DocumentKind
from coop.governance.schemas import BenefitPolicyOut, MandateOut, benefit_policy_out, mandate_out

router = APIRouter(tags=["governance"])

At = Annotated[AwareDatetime | None, Query(description="ISO 8601 with offset; default: now")]


@router.get("/mandate", response_model=MandateOut, summary="The collective mandate in force (public)")
def mandate(session: ReadSession, at: At = None) -> MandateOut:
    return mandate_out(service.require_in_force(session, DocumentKind.mandate, at))


@router.get("/benefit-policy", response_model=BenefitPolicyOut, summary="The benefit policy in force (public)")
def benefit_policy(session: ReadSession, at: At = None) -> BenefitPolicyOut:
    return benefit_policy_out(service.require_in_force(session, DocumentKind.benefit_policy, at))
