"""The effective decision for one member, following the rules one by one (the reference
the bulk engine is tested against).

The own yes to sensitive categories (Art. 51(4)) is the member's whose data it is: when a
proxy's chain ends at the mandate, the mandate looks at the principal's yes, never at a
proxy's (a proxy's yes is about the proxy's own data)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from coop.choices import encoding
from coop.choices import queries as choices_queries
from coop.choices.encoding import Preference
from coop.decisions.rules import Decision, MandateAnswer, Reason, Terms, is_prohibited, mandate_decision
from coop.governance import queries as governance
from coop.proxies import queries as proxies
from coop.vocabulary.terms import Category, ProhibitedUse, Purpose, UserType, mask, position


@dataclass(frozen=True, slots=True)
class Effective:
    decision: Decision
    reason: Reason
    chain: list[int] = field(default_factory=list)
    """The member, then each proxy followed; the last one decided."""
    deciding_reason: Reason | None = None
    """With ``proxy``: the rule that decided for the last proxy in the chain."""
    mandate_version: int | None = None
    mandate: MandateAnswer | None = None


def effective(
    session: Session,
    member_id: int,
    purpose: Purpose | ProhibitedUse,
    user_type: UserType,
    categories: Sequence[Category],
    at: datetime,
    terms: Terms | None = None,
    max_depth: int = 3,
) -> Effective:
    if is_prohibited(purpose, user_type):
        return Effective(Decision.deny, Reason.prohibited, [member_id])
    assert isinstance(purpose, Purpose)
    version, mandate = governance.mandate_at(session, at)
    excluded = mask(categories)
    bit = 1 << position(purpose)
    chain = [member_id]
    sensitive_yes = 0
    while True:
        decision, reason, answer, yes = _own_rules(session, chain[-1], purpose, user_type, categories, excluded, at)
        if len(chain) == 1:
            sensitive_yes = yes
        if reason is Reason.proxy:
            appointment = proxies.proxy_for(session, chain[-1], bit, at)
            if appointment is not None:
                if len(chain) > max_depth or appointment.proxy_member_id in chain:
                    decision, reason = Decision.deny, Reason.proxy  # defensive: appointments refuse these
                    break
                chain.append(appointment.proxy_member_id or 0)  # a member's: see proxy_for
                continue
            decision, reason = None, Reason.mandate  # 'proxy' without a valid proxy: the mandate decides
        if reason is Reason.mandate:
            answer = mandate_decision(mandate, purpose, user_type, categories, terms, sensitive_yes)
            decision = answer.decision
        break
    assert decision is not None
    if len(chain) > 1:
        return Effective(decision, Reason.proxy, chain, reason, version, answer)
    return Effective(decision, reason, chain, None, version, answer)


def _own_rules(
    session: Session,
    member_id: int,
    purpose: Purpose,
    user_type: UserType,
    categories: Sequence[Category],
    excluded: int,
    at: datetime,
) -> tuple[Decision | None, Reason, MandateAnswer | None, int]:
    """Rules 2 to 5 for one member; for rules 6 and 7 only the reason (the caller goes on).
    Last, the member's own yes to sensitive categories (a mask)."""
    v = choices_queries.as_of(session, member_id, at)
    if v is None or not v.is_member:
        return Decision.deny, Reason.not_member, None, 0
    if v.opt_out:
        return Decision.deny, Reason.opt_out, None, 0
    if v.excluded_mask & excluded:
        return Decision.deny, Reason.category_excluded, None, 0
    preference = encoding.get(v.preference_mask, purpose, user_type)
    if preference is Preference.allow:
        return Decision.allow, Reason.own_choice, None, 0
    if preference is Preference.deny:
        return Decision.deny, Reason.own_choice, None, 0
    return None, Reason.proxy if preference is Preference.proxy else Reason.mandate, None, v.sensitive_yes_mask
