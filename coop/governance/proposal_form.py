"""The board's proposal form: a new mandate or benefit policy, read from the portal's fields.

The form shows every rule the mandate may set (each purpose and kind of user the law leaves
to the cooperative) and the benefit policy's shares, filled in with the version in force;
the voting window in Dutch time; the quorum and majority. :func:`read` turns the fields sent
into a :class:`~coop.governance.voting.NewProposal`, or into the refusal of each field that
is wrong, keyed by the field's name, so the page can say it beside that field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from coop.governance.ballot import rule_of
from coop.governance.documents import (
    BenefitPolicy,
    DocumentKind,
    Mandate,
    MandateDecision,
    parse_document,
)
from coop.governance.voting import NewProposal
from coop.i18n import HOME_ZONE, N_
from coop.portal.forms import local_field
from coop.vocabulary.terms import Purpose, UserType, law_decides

CONDITION_FLAGS = ("open_results", "processing_in_eu", "ethics_review")
CONDITION_NUMBERS = ("min_benefit_share_pct", "max_duration_months")
POLICY_FIELDS = ("reserve_pct", "solidarity_pct", "members_pct", "minimum_payout_euros")
DEFAULT_DAYS = 14

FIELD_ERRORS: dict[str, str] = {
    "field-title": N_("field_error_title"),
    "field-moment": N_("field_error_moment"),
    "field-window": N_("field_error_window"),
    "field-number": N_("field_error_number"),
    "field-range": N_("field_error_range"),
    "field-choice": N_("field_error_choice"),
    "field-conditions": N_("field_error_conditions"),
    "field-shares": N_("field_error_shares"),
    "field-document": N_("field_error_document"),
}
"""What the page says beside a field that is wrong, by the code :func:`read` gives it."""


def pairs() -> list[tuple[Purpose, UserType]]:
    """The (purpose, user type) pairs a mandate decides, in vocabulary order."""
    return [(p, u) for p in Purpose for u in UserType if (p, u) not in law_decides()]


def rule_field(purpose: Purpose, user_type: UserType, name: str) -> str:
    """The form field of one part of the rule for (purpose, user type)."""
    return f"{purpose.value}.{user_type.value}.{name}"


@dataclass
class Read:
    """What the form said: the proposal, or the errors by field name (code, and message)."""

    proposal: NewProposal | None = None
    errors: dict[str, str] = field(default_factory=dict)


def _local(value: str) -> datetime:
    """A ``datetime-local`` field, in Dutch time, as UTC."""
    return datetime.fromisoformat(value).replace(tzinfo=HOME_ZONE)


def _int(form: Mapping[str, str], name: str, errors: dict[str, str], low: int, high: int) -> int | None:
    raw = form.get(name, "").strip()
    try:
        value = int(raw)
    except ValueError:
        errors[name] = "field-number"
        return None
    if not low <= value <= high:
        errors[name] = "field-range"
        return None
    return value


def _mandate_body(form: Mapping[str, str], errors: dict[str, str]) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    for purpose, user_type in pairs():
        name = rule_field(purpose, user_type, "decision")
        decision = form.get(name, "")
        if decision not in {d.value for d in MandateDecision}:
            errors[name] = "field-choice"
            continue
        rule: dict[str, Any] = {
            "purpose": purpose.value,
            "user_type": user_type.value,
            "decision": decision,
            "sensitive_requires_explicit_allow": form.get(rule_field(purpose, user_type, "sensitive")) == "on",
        }
        if decision == MandateDecision.conditional.value:
            conditions: dict[str, Any] = {
                f: form.get(rule_field(purpose, user_type, f)) == "on" for f in CONDITION_FLAGS
            }
            for number, (low, high) in zip(CONDITION_NUMBERS, ((0, 100), (1, 240)), strict=True):
                key = rule_field(purpose, user_type, number)
                if form.get(key, "").strip():
                    conditions[number] = _int(form, key, errors, low, high)
            if not any(conditions.values()):
                errors[rule_field(purpose, user_type, "decision")] = "field-conditions"
            rule["conditions"] = conditions
        rules.append(rule)
    return {"default": "deny", "rules": rules}


def _policy_body(form: Mapping[str, str], errors: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {name: _int(form, name, errors, 0, 100) for name in POLICY_FIELDS[:3]}
    euros = _int(form, "minimum_payout_euros", errors, 0, 100_000)
    body["minimum_payout_cents"] = None if euros is None else euros * 100
    if not errors and sum(body[name] for name in POLICY_FIELDS[:3]) != 100:
        errors["members_pct"] = "field-shares"
    return body


def read(form: Mapping[str, str], kind: DocumentKind, now: datetime) -> Read:
    """The proposal the form describes, or what is wrong with it, field by field."""
    errors: dict[str, str] = {}
    title = " ".join(form.get("title", "").split())
    if not 1 <= len(title) <= 200:
        errors["title"] = "field-title"
    window: dict[str, datetime] = {}
    for name in ("opens_at", "closes_at"):
        try:
            window[name] = _local(form.get(name, ""))
        except ValueError:
            errors[name] = "field-moment"
    if len(window) == 2 and window["closes_at"] <= max(window["opens_at"], now):
        errors["closes_at"] = "field-window"
    quorum = _int(form, "quorum_pct", errors, 0, 100)
    majority = _int(form, "majority_pct", errors, 50, 99)
    body = _mandate_body(form, errors) if kind is DocumentKind.mandate else _policy_body(form, errors)
    if errors:
        return Read(errors=errors)
    document, _ = parse_document(kind, body)
    if document is None:  # what the fields cannot say: said above the form
        return Read(errors={"document": "field-document"})
    assert quorum is not None and majority is not None
    return Read(
        NewProposal(
            title,
            kind,
            document.model_dump(mode="json"),
            window["opens_at"],
            window["closes_at"],
            quorum,
            majority,
        )
    )


def filled(kind: DocumentKind, in_force: Mandate | BenefitPolicy | None, now: datetime) -> dict[str, str]:
    """The form's fields for a new proposal: the version in force, voting from now for two weeks."""
    values = {
        "title": "",
        "opens_at": local_field(now),
        "closes_at": local_field(now + timedelta(days=DEFAULT_DAYS)),
        "quorum_pct": "10",
        "majority_pct": "50",
    }
    if kind is DocumentKind.mandate:
        mandate = in_force if isinstance(in_force, Mandate) else Mandate()
        for purpose, user_type in pairs():
            rule = rule_of(mandate, purpose, user_type)
            values[rule_field(purpose, user_type, "decision")] = rule.decision.value
            if rule.sensitive_requires_explicit_allow:
                values[rule_field(purpose, user_type, "sensitive")] = "on"
            for flag in CONDITION_FLAGS:
                if rule.conditions is not None and getattr(rule.conditions, flag):
                    values[rule_field(purpose, user_type, flag)] = "on"
            for number in CONDITION_NUMBERS:
                held = None if rule.conditions is None else getattr(rule.conditions, number)
                values[rule_field(purpose, user_type, number)] = "" if held is None else str(held)
    else:
        policy = in_force if isinstance(in_force, BenefitPolicy) else None
        values |= {
            "reserve_pct": str(policy.reserve_pct) if policy else "",
            "solidarity_pct": str(policy.solidarity_pct) if policy else "",
            "members_pct": str(policy.members_pct) if policy else "",
            "minimum_payout_euros": str(policy.minimum_payout_cents // 100) if policy else "",
        }
    return values
