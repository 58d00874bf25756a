"""API shapes for the governing documents."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from coop.governance.documents import BenefitPolicy, DocumentKind, Mandate
from coop.governance.service import Version


class MandateOut(BaseModel):
    version: int
    effective_from: datetime
    source: str
    mandate: Mandate


class BenefitPolicyOut(BaseModel):
    version: int
    effective_from: datetime
    source: str
    benefit_policy: BenefitPolicy


def mandate_out(v: Version) -> MandateOut:
    assert v.kind is DocumentKind.mandate and isinstance(v.document, Mandate)
    return MandateOut(version=v.version, effective_from=v.effective_from, source=v.source, mandate=v.document)


def benefit_policy_out(v: Version) -> BenefitPolicyOut:
    assert v.kind is DocumentKind.benefit_policy and isinstance(v.document, BenefitPolicy)
    return BenefitPolicyOut(
        version=v.version, effective_from=v.effective_from, source=v.source, benefit_policy=v.document
    )
