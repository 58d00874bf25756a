"""The rules that decide whether a member's data may be used: pure functions.

For member *m*, purpose *p*, user type *u*, categories *C* at time *t*, in this order
(SPEC section 3), the first rule that applies decides and is recorded as the reason:

1. ``prohibited``: *p* is a prohibited use (Art. 54), or public-sector-only (Art. 53(2))
   while *u* is not public. A third party processing on behalf of a public-sector body
   (Art. 53(2)) is decided as that body: see :func:`deciding_user_type`.
2. ``not-member``: *m* was not a member at *t*.
3. ``opt-out``: *m* had opted out at *t* (Art. 71).
4. ``category-excluded``: *m* excluded a category in *C*.
5. ``own-choice``: *m*'s own allow or deny for (*p*, *u*).
6. ``proxy``: *m* left (*p*, *u*) to a proxy valid at *t*: the proxy's effective decision.
7. ``mandate``: the collective mandate in force at *t*; when it needs the member's explicit
   allow for sensitive categories (Art. 51(4)) and *C* has one the member gave no own yes
   for, deny. The yes is given per sensitive category (:func:`mandate_decision`); an own
   ``allow`` for (*p*, *u*) is an explicit allow too, and decides at rule 5 already.

An application with several purposes is allowed only when every purpose is; a refusal
takes the reason of the earliest rule that refused, an allowance the latest rule that
allowed (own choice, then proxy, then mandate), so the counts show how much rests on
delegation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from coop.governance.documents import Conditions, Mandate, MandateDecision
from coop.vocabulary.terms import SENSITIVE, Category, Purpose, UserType, mask
from coop.vocabulary.terms import is_prohibited as is_prohibited  # rule 1 is the law itself; named here with the rules
from coop.vocabulary.terms import law_decides as law_decides


class Decision(StrEnum):
    allow = "allow"
    deny = "deny"
    conditional = "conditional"
    """Only from the mandate, when no application terms were given to test its conditions."""


class Reason(IntEnum):
    """Rules in the order they are tried; the value is that order."""

    prohibited = 1
    not_member = 2
    opt_out = 3
    category_excluded = 4
    own_choice = 5
    proxy = 6
    mandate = 7

    @property
    def code(self) -> str:
        return self.name.replace("_", "-")


@dataclass(frozen=True, slots=True)
class Terms:
    """What an application offers, to test a conditional mandate rule against."""

    benefit_share_pct: int
    open_results: bool
    processing_in_eu: bool
    ethics_review: bool
    duration_months: int


@dataclass(frozen=True, slots=True)
class MandateAnswer:
    decision: Decision
    conditions: Conditions | None = None
    unmet: tuple[str, ...] = ()
    sensitive_needs_explicit_allow: bool = False


def deciding_user_type(user_type: UserType, on_behalf_of_public_body: bool) -> UserType:
    """Whose use the law and the members' choices see: a third party that processes data on
    behalf of a public-sector body (Art. 53(2)) uses it as that body does, so it is decided
    as a public-sector use, for the purposes reserved to the public sector and the others."""
    return UserType.public if on_behalf_of_public_body else user_type


def unmet_conditions(conditions: Conditions, terms: Terms) -> tuple[str, ...]:
    unmet = []
    if conditions.min_benefit_share_pct is not None and terms.benefit_share_pct < conditions.min_benefit_share_pct:
        unmet.append("min_benefit_share_pct")
    if conditions.open_results and not terms.open_results:
        unmet.append("open_results")
    if conditions.processing_in_eu and not terms.processing_in_eu:
        unmet.append("processing_in_eu")
    if conditions.ethics_review and not terms.ethics_review:
        unmet.append("ethics_review")
    if conditions.max_duration_months is not None and terms.duration_months > conditions.max_duration_months:
        unmet.append("max_duration_months")
    return tuple(unmet)


def mandate_decision(
    mandate: Mandate,
    purpose: Purpose,
    user_type: UserType,
    categories: Iterable[Category],
    terms: Terms | None,
    sensitive_yes: int = 0,
) -> MandateAnswer:
    """Rule 7 for one purpose. Pairs without a rule take the mandate's default, and then
    sensitive categories always need the member's explicit allow. ``sensitive_yes``: the
    categories (a mask) the member whose data it is gave their own explicit yes for; when it
    covers every sensitive category asked for, the mandate decides as it would without them."""
    rule = mandate.rule_for(purpose, user_type)
    decision = MandateDecision(rule.decision if rule else mandate.default)
    explicit = rule.sensitive_requires_explicit_allow if rule else True
    unconsented = mask(SENSITIVE & set(categories)) & ~sensitive_yes
    if decision is not MandateDecision.deny and explicit and unconsented:
        return MandateAnswer(Decision.deny, sensitive_needs_explicit_allow=True)
    if decision is MandateDecision.conditional:
        assert rule is not None and rule.conditions is not None
        if terms is None:
            return MandateAnswer(Decision.conditional, rule.conditions)
        unmet = unmet_conditions(rule.conditions, terms)
        return MandateAnswer(Decision.deny if unmet else Decision.allow, rule.conditions, unmet)
    return MandateAnswer(Decision(decision.value))


def combine(outcomes: Iterable[tuple[Decision, Reason]]) -> tuple[Decision, Reason]:
    """One outcome for an application with several purposes (see the module docstring)."""
    items = list(outcomes)
    denied = [r for d, r in items if d is Decision.deny]
    if denied:
        return Decision.deny, min(denied)
    conditional = [r for d, r in items if d is Decision.conditional]
    if conditional:
        return Decision.conditional, max(conditional)
    return Decision.allow, max(r for _, r in items)
