"""The cooperative's two governing documents, as immutable values with pure validation.

* The **collective mandate** says, per (purpose, user type), what the cooperative decides
  for members who leave the decision to it: ``allow``, ``deny``, or ``conditional`` on
  terms an application must meet. It also says whether sensitive categories (Art. 51(4))
  need the member's own explicit allow.
* The **benefit policy** splits the year's net income over the indivisible reserve, the
  solidarity fund and the members' pool (percentages summing to 100), and sets the minimum
  payout in cents.

:func:`mandate_errors` and :func:`benefit_policy_errors` return field-level errors as
values; nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coop.vocabulary.terms import PUBLIC_SECTOR_ONLY, Purpose, UserType


class DocumentKind(StrEnum):
    mandate = "mandate"
    benefit_policy = "benefit-policy"


class MandateDecision(StrEnum):
    allow = "allow"
    deny = "deny"
    conditional = "conditional"


class Conditions(BaseModel):
    """Terms an application must meet for a conditional rule to allow it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_benefit_share_pct: int | None = Field(default=None, ge=0, le=100)
    open_results: bool = False
    processing_in_eu: bool = False
    ethics_review: bool = False
    max_duration_months: int | None = Field(default=None, ge=1, le=240)

    def is_empty(self) -> bool:
        return self == Conditions()


class MandateRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    purpose: Purpose
    user_type: UserType
    decision: MandateDecision
    conditions: Conditions | None = None
    sensitive_requires_explicit_allow: bool = True


class Mandate(BaseModel):
    """Rules per (purpose, user type); pairs without a rule get ``default``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Literal["allow", "deny"] = "deny"
    rules: list[MandateRule] = Field(default_factory=list, max_length=len(Purpose) * len(UserType))

    def rule_for(self, purpose: Purpose, user_type: UserType) -> MandateRule | None:
        return next((r for r in self.rules if r.purpose is purpose and r.user_type is user_type), None)


class BenefitPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reserve_pct: int = Field(ge=0, le=100, description="to the indivisible reserve")
    solidarity_pct: int = Field(ge=0, le=100, description="to the solidarity fund (society)")
    members_pct: int = Field(ge=0, le=100, description="to the members' pool")
    minimum_payout_cents: int = Field(ge=0, le=100_000_00, description="smaller dividends are carried forward")


@dataclass(frozen=True, slots=True)
class FieldError:
    loc: tuple[str | int, ...]
    msg: str
    type: str = "inconsistent"
    """pydantic's error type for a value the schema refuses; ``inconsistent`` for a rule across fields."""

    def as_dict(self) -> dict[str, Any]:
        """As the API lists it in a problem's ``errors`` (loc, msg and type, as every 422 does)."""
        return {"loc": list(self.loc), "msg": self.msg, "type": self.type}


def mandate_errors(mandate: Mandate) -> list[FieldError]:
    """Inconsistencies a schema cannot see: duplicate pairs, conditions that do not fit
    the decision, and allowing what Art. 53(2) forbids."""
    errors: list[FieldError] = []
    seen: dict[tuple[Purpose, UserType], int] = {}
    for i, rule in enumerate(mandate.rules):
        pair = (rule.purpose, rule.user_type)
        if pair in seen:
            errors.append(
                FieldError(("rules", i), f"a second rule for {rule.purpose} / {rule.user_type} (first at {seen[pair]})")
            )
        seen.setdefault(pair, i)
        has_conditions = rule.conditions is not None and not rule.conditions.is_empty()
        if rule.decision is MandateDecision.conditional and not has_conditions:
            errors.append(FieldError(("rules", i, "conditions"), "a conditional rule needs at least one condition"))
        if rule.decision is not MandateDecision.conditional and rule.conditions is not None:
            errors.append(
                FieldError(("rules", i, "conditions"), f"conditions belong to conditional rules, not {rule.decision}")
            )
        if (
            rule.purpose in PUBLIC_SECTOR_ONLY
            and rule.user_type is not UserType.public
            and rule.decision is not MandateDecision.deny
        ):
            errors.append(
                FieldError(("rules", i, "decision"), f"{rule.purpose} is for public-sector bodies only (Art. 53(2))")
            )
    return errors


def benefit_policy_errors(policy: BenefitPolicy) -> list[FieldError]:
    total = policy.reserve_pct + policy.solidarity_pct + policy.members_pct
    if total != 100:
        return [FieldError(("members_pct",), f"reserve, solidarity and members' shares sum to {total}, not 100")]
    return []


Document = Mandate | BenefitPolicy


def parse_document(kind: DocumentKind, body: Any) -> tuple[Document | None, list[FieldError]]:
    """Validate a document body of ``kind``: the value, or every error found."""
    model: type[Mandate] | type[BenefitPolicy] = Mandate if kind is DocumentKind.mandate else BenefitPolicy
    try:
        doc = model.model_validate(body)
    except ValidationError as exc:
        return None, [FieldError(tuple(e["loc"]), e["msg"], e["type"]) for e in exc.errors()]
    errors = mandate_errors(doc) if isinstance(doc, Mandate) else benefit_policy_errors(doc)
    return (None, errors) if errors else (doc, [])
