"""API shapes for effective decisions."""

from __future__ import annotations

from pydantic import BaseModel, Field

from coop.decisions.rules import MandateAnswer
from coop.decisions.service import Effective
from coop.governance.documents import Conditions


class MandateAnswerOut(BaseModel):
    decision: str
    conditions: Conditions | None = None
    unmet: list[str] = Field(default_factory=list)
    sensitive_needs_explicit_allow: bool = False

    @classmethod
    def of(cls, a: MandateAnswer) -> MandateAnswerOut:
        return cls(
            decision=a.decision.value,
            conditions=a.conditions,
            unmet=list(a.unmet),
            sensitive_needs_explicit_allow=a.sensitive_needs_explicit_allow,
        )


class EffectiveOut(BaseModel):
    decision: str = Field(description="allow, deny, or conditional (the mandate's terms were not tested)")
    reason: str = Field(description="prohibited, not-member, opt-out, category-excluded, own-choice, proxy or mandate")
    chain: list[int] = Field(description="the member, then each proxy followed; the last decided")
    deciding_reason: str | None = Field(description="with reason 'proxy': the rule that decided for the last proxy")
    mandate_version: int | None
    mandate: MandateAnswerOut | None = Field(description="what the mandate said, when it decided")

    @classmethod
    def of(cls, e: Effective) -> EffectiveOut:
        return cls(
            decision=e.decision.value,
            reason=e.reason.code,
            chain=e.chain,
            deciding_reason=e.deciding_reason.code if e.deciding_reason else None,
            mandate_version=e.mandate_version,
            mandate=MandateAnswerOut.of(e.mandate) if e.mandate else None,
        )
